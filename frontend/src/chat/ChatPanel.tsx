/**
 * The chat of one running session: conversation list, the thread, pending permission requests, the
 * turn's error, and the composer. Sends with `prompt_async` (the answer arrives on the event stream),
 * stops with `abort`, and creates a conversation on the first prompt if there is none. Voice mode
 * (docs/voice.md) wraps it: the voice panel sits above the composer and talks through the same send.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useSessions } from "../sessions/SessionsContext.tsx";
import { Icon } from "../ui/Icon.tsx";
import { toastError } from "../ui/toast.ts";
import { VoicePanel } from "../voice/VoiceControls.tsx";
import { VoiceProvider } from "../voice/VoiceContext.tsx";
import { BusyIndicator } from "./BusyIndicator.tsx";
import { useChat, useChatStore } from "./ChatContext.tsx";
import { useAgentChoice, useAgents } from "./AgentPicker.tsx";
import { Composer, type Draft } from "./Composer.tsx";
import { ContextUsage, contextUsage } from "./ContextUsage.tsx";
import { ConnectionStatus } from "./ConnectionStatus.tsx";
import { ConversationList } from "./ConversationList.tsx";
import { MessageActionsProvider } from "./MessageActions.tsx";
import { PermissionPrompt } from "./PermissionPrompt.tsx";
import { QuestionPrompt } from "./QuestionPrompt.tsx";
import { ThreadSearch } from "./search/ThreadSearch.tsx";
import { useFindShortcut } from "./search/useFindShortcut.ts";
import { Thread, type ThreadHandle } from "./Thread.tsx";
import { TodoList } from "./TodoList.tsx";
import { useChatActions } from "./useChatActions.ts";
import { useConversationParam } from "./useConversationParam.ts";
import { useModelChoice } from "./useModelChoice.ts";
import { useProviders } from "./useProviders.ts";
import { byRecency } from "./conversations.ts";
import { errorText } from "./reducer.ts";
import { NoProviderNotice } from "../llm/NoProviderNotice.tsx";
import { tightestBudget, useLlmStatus } from "../llm/useLlmStatus.ts";

/** The chat of octo session `sessionId` (its store comes from the surrounding ChatProvider). */
export function ChatPanel({ sessionId }: { sessionId: string }) {
  const store = useChatStore();
  const { state, connection, syncError, ready, loadingOlder } = useChat();
  const [activeID, setActiveID] = useConversationParam();
  const [listOpen, setListOpen] = useState(false);
  const providers = useProviders();
  const sessions = useSessions();

  // The services went away (stopped elsewhere, crashed): ask octo for the session's state now instead of
  // waiting for the next list refresh, so the page switches to the stopped/failed view.
  const upstreamDown = connection.kind === "waiting" && (connection.status === 502 || connection.status === 503);
  useEffect(() => {
    if (upstreamDown) void sessions.refresh();
  }, [upstreamDown, sessions.refresh]);
  const [model, setModel] = useModelChoice(sessionId);

  // Top-level conversations, most recently updated first.
  const conversations = useMemo(() => byRecency(Object.values(state.conversations)), [state.conversations]);

  // Open the most recent conversation when none is chosen (or the chosen one was deleted).
  const fallbackID = ready && !(activeID && state.conversations[activeID]) ? (conversations[0]?.id ?? null) : null;
  useEffect(() => {
    if (!fallbackID) return;
    // In a task of its own: the navigation re-renders the whole app synchronously (a microtask), which would
    // otherwise run before the messages' request below is sent.
    // Only if the URL still names what this render saw: a conversation opened meanwhile stays open.
    const timer = setTimeout(() => new URLSearchParams(window.location.search).get("c") === activeID && setActiveID(fallbackID, true), 0);
    return () => clearTimeout(timer);
  }, [fallbackID, activeID, setActiveID]);

  // Watched from the render that knows which conversation opens, not the one after the URL names it: the
  // messages are asked for one React render and commit sooner (bench/chat.ts, the first render).
  const watchedID = fallbackID ?? activeID;
  useEffect(() => {
    if (!watchedID) return;
    void store.watch(watchedID);
    return () => store.unwatch(watchedID);
  }, [store, watchedID]);

  const agents = useAgents();
  const [agent, setAgent] = useAgentChoice(sessionId, activeID && state.conversations[activeID] ? activeID : null);
  const [prefill, setPrefill] = useState<{ text: string; seq: number }>();
  const prefillText = useCallback((text: string) => setPrefill((p) => ({ text, seq: (p?.seq ?? 0) + 1 })), []);
  const actions = useChatActions({ sessionId, state, activeID, setActiveID, model, fallbackModel: providers.fallback, agent, prefill: prefillText });
  const { creating } = actions;
  // `actions.send` changes with the chat state, so with every streamed delta; the composer and the voice
  // panel get one stable function that calls the current one, and are not rendered again for a delta.
  const latestSend = useRef(actions.send);
  latestSend.current = actions.send;
  const send = useCallback((draft: Draft) => latestSend.current(draft), []);
  const newConversation = useCallback(async () => {
    const id = await actions.newConversation();
    setListOpen(false);
    return id;
  }, [actions.newConversation]);
  const sendText = useCallback((text: string) => send({ text, attachments: [] }), [send]);
  const onNewConversation = useCallback(() => void newConversation().catch(() => {}), [newConversation]);
  const selectConversation = useCallback(
    (id: string) => {
      setActiveID(id);
      setListOpen(false);
    },
    [setActiveID],
  );

  // Find in the conversation (Ctrl/Cmd+F in the panel, or the header's button): see search/ThreadSearch.tsx.
  const chatRoot = useRef<HTMLDivElement>(null);
  const threadRef = useRef<ThreadHandle>(null);
  const [find, setFind] = useState<{ open: boolean; seq: number }>({ open: false, seq: 0 });
  const openFind = useCallback(() => setFind((f) => ({ open: true, seq: f.seq + 1 })), []);
  const closeFind = useCallback(() => setFind((f) => ({ ...f, open: false })), []);
  useFindShortcut(chatRoot, openFind);

  const loadOlder = useCallback(() => activeID && void store.loadOlder(activeID), [store, activeID]);

  const abort = useCallback(() => {
    if (!activeID) return;
    store.client.session.abort({ sessionID: activeID }).catch((err) => toastError("Could not stop the agent", err));
  }, [store, activeID]);

  const active = activeID ? state.conversations[activeID] : undefined;
  const status = activeID ? state.status[activeID] : undefined;
  const busy = status?.type === "busy" || status?.type === "retry";
  // Requests of this conversation and of its subagent conversations (task tool).
  const mine = (p: { sessionID: string }) => p.sessionID === activeID || state.conversations[p.sessionID]?.parentID === activeID;
  const permissions = Object.values(state.permissions).flat().filter(mine);
  const questions = Object.values(state.questions).flat().filter(mine);
  // Over the conversation's message list only: a streamed delta (parts) does not recount it.
  const activeMessages = activeID ? state.messages[activeID] : undefined;
  const usage = useMemo(() => (activeID ? contextUsage(state, activeID, providers) : null), [activeMessages, activeID, providers]); // eslint-disable-line react-hooks/exhaustive-deps
  const lastUser = activeID ? state.messages[activeID]?.findLast((m) => m.role === "user") : undefined;
  // A provider error shows once: in the failed answer when there is one, otherwise in the banner.
  const lastAssistant = activeID ? state.messages[activeID]?.findLast((m) => m.role === "assistant") : undefined;
  const shownInThread = lastAssistant?.role === "assistant" && lastAssistant.error ? errorText(lastAssistant.error) : undefined;
  const turnError = activeID && state.errors[activeID] !== shownInThread ? state.errors[activeID] : undefined;
  // octo's gateway: budgets (reloaded after each turn) and whether any provider reaches this session.
  const llm = useLlmStatus(sessionId, busy);
  const budget = tightestBudget(llm.budgets);
  const noProvider = llm.providers !== null && llm.providers.length === 0 && providers.error === null && !providers.providers.some((p) => p.id !== "opencode");

  const chat = (
    <div className={listOpen ? "chat list-open" : "chat"} ref={chatRoot}>
      <ConversationList
        conversations={conversations}
        loaded={ready}
        status={state.status}
        activeID={activeID}
        creating={creating}
        onNew={onNewConversation}
        onRename={actions.rename}
        onDelete={actions.remove}
        onSelect={selectConversation}
      />
      {listOpen ? <div className="drawer-backdrop" aria-hidden onClick={() => setListOpen(false)} /> : null}
      <div className="chat-main">
        <div className="chat-toolbar">
          <button type="button" className="btn btn-ghost btn-sm conversations-toggle" aria-label="Conversations" aria-expanded={listOpen} onClick={() => setListOpen(!listOpen)}>
            <Icon name="list" size={15} />
          </button>
          <span className="chat-title ellipsis" title={active?.title}>
            {active?.title ?? (ready ? "New conversation" : "")}
          </span>
          <BusyIndicator status={status} since={lastUser?.time.created} onCancel={abort} />
          <ContextUsage usage={usage} />
          {budget ? (
            <span className={budget.spent ? "budget-pill spent" : "budget-pill"} title={budget.title}>
              {budget.text}
            </span>
          ) : null}
          <button type="button" className="btn btn-ghost btn-sm btn-icon" aria-label="Find in conversation" title="Find in conversation (Ctrl+F)" aria-pressed={find.open} disabled={!activeID} onClick={find.open ? closeFind : openFind}>
            <Icon name="search" size={15} />
          </button>
          <button type="button" className="btn btn-ghost btn-sm btn-icon toolbar-new-conversation" aria-label="New conversation" title="New conversation" disabled={creating} onClick={() => void newConversation().catch(() => {})}>
            <Icon name="plus" size={15} />
          </button>
          <ConnectionStatus state={connection} onRetry={() => store.reconnect()} />
        </div>
        {syncError ? (
          <div className="banner error" role="alert">
            Could not refresh the conversation: {syncError}
          </div>
        ) : null}
        {activeID && find.open ? <ThreadSearch key={activeID} state={state} conversationID={activeID} thread={threadRef} root={chatRoot} focusSeq={find.seq} onClose={closeFind} /> : null}
        {activeID ? (
          <MessageActionsProvider value={{ fork: (id) => void actions.fork(id) }}>
            <Thread key={activeID} ref={threadRef} state={state} conversationID={activeID} onRedo={() => void actions.redo()} onOlder={loadOlder} loadingOlder={loadingOlder[activeID] === true} />
          </MessageActionsProvider>
        ) : (
          <div className="thread">
            <div className="thread-empty empty">
              {ready ? (
                <>
                  <h2>Start a conversation</h2>
                  <p>Type below; the agent works in this session's workspace.</p>
                </>
              ) : (
                <p>
                  <span className="spinner" /> {syncError ? "The agent did not answer yet; retrying…" : "Connecting to the agent…"}
                </p>
              )}
            </div>
          </div>
        )}
        <div className="chat-bottom">
          {noProvider ? <NoProviderNotice /> : null}
          {turnError ? (
            <div className="banner error" role="alert">
              <Icon name="alert" size={14} /> {turnError}
              <button type="button" className="btn btn-ghost btn-sm" onClick={() => activeID && store.dismissError(activeID)} aria-label="Dismiss">
                <Icon name="x" size={13} />
              </button>
            </div>
          ) : null}
          {permissions.map((p) => (
            <PermissionPrompt key={p.id} request={p} root={active?.directory} />
          ))}
          {questions.map((q) => (
            <QuestionPrompt key={q.id} request={q} />
          ))}
          <TodoList todos={activeID ? state.todos[activeID] : undefined} />
          <VoicePanel />
          <Composer
            busy={busy}
            disabled={!ready}
            providers={providers}
            model={model}
            onModel={setModel}
            agents={agents}
            agent={agent}
            onAgent={setAgent}
            root={active?.directory}
            onSend={send}
            onAbort={abort}
            prefill={prefill}
          />
        </div>
      </div>
    </div>
  );
  return (
    <VoiceProvider conversationID={activeID ?? null} onSend={sendText}>
      {chat}
    </VoiceProvider>
  );
}
