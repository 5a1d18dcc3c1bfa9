/**
 * What the chat does with a draft and with a conversation, over OpenCode's session API:
 * - a prompt (`POST /session/:id/prompt_async`, with the chosen agent and model and the attachments as
 *   file parts), creating the conversation first when there is none;
 * - `!command`: `POST /session/:id/shell` (the output arrives as a bash tool call in the thread);
 * - `/name args`: the client commands (`/new`, `/undo` = revert to the last user message not yet undone
 *   and put its text back in the composer, `/redo` = revert to the next one or unrevert, `/compact` =
 *   summarize, `/fork`, `/export`) or the server's (`POST /session/:id/command`);
 * - fork from a message, rename and delete a conversation.
 * Failures are shown as toasts and rethrown, so the composer puts the draft back.
 */
import { useCallback, useState } from "react";
import { toast, toastError } from "../ui/toast.ts";
import { rememberAgent } from "./AgentPicker.tsx";
import { useChatStore } from "./ChatContext.tsx";
import { toFilePart } from "./composer/attachments.ts";
import { isClientCommand } from "./composer/commands.ts";
import { parseSlash } from "./composer/triggers.ts";
import type { Draft } from "./Composer.tsx";
import { conversationMarkdown, downloadText } from "./exportMarkdown.ts";
import type { ChatState } from "./reducer.ts";
import type { ModelRef } from "./useProviders.ts";
import { partsOf } from "./partIndex.ts";

export interface ChatActionsInput {
  sessionId: string;
  state: ChatState;
  activeID: string | null;
  setActiveID: (id: string) => void;
  model: ModelRef | null;
  /** OpenCode's default model, for `/compact` when none is chosen. */
  fallbackModel: ModelRef | null;
  agent: string | null;
  /** Puts text back in the composer (the prompt of an undone turn). */
  prefill: (text: string) => void;
}

/** The prompt text of a user message (its non-synthetic text parts). */
function promptText(state: ChatState, messageID: string): string {
  return (partsOf(state.parts, messageID) ?? [])
    .flatMap((p) => (p.type === "text" && !p.synthetic ? [p.text] : []))
    .join("\n");
}

/** See the module doc. */
export function useChatActions({ sessionId, state, activeID, setActiveID, model, fallbackModel, agent, prefill }: ChatActionsInput) {
  const store = useChatStore();
  const { client } = store;
  const [creating, setCreating] = useState(false);
  const active = activeID && state.conversations[activeID] ? activeID : null;

  const newConversation = useCallback(async () => {
    setCreating(true);
    try {
      const created = await client.session.create({});
      store.addConversation(created.data!);
      const id = created.data!.id;
      rememberAgent(sessionId, id, agent);
      setActiveID(id);
      return id;
    } catch (err) {
      toastError("Could not create a conversation", err);
      throw err;
    } finally {
      setCreating(false);
    }
  }, [client, store, setActiveID, sessionId, agent]);

  const openCreated = useCallback(
    (info: Parameters<typeof store.addConversation>[0]) => {
      store.addConversation(info);
      rememberAgent(sessionId, info.id, agent);
      setActiveID(info.id);
    },
    [store, sessionId, agent, setActiveID],
  );

  const undo = useCallback(async () => {
    if (!active) return;
    const revert = state.conversations[active]?.revert?.messageID;
    const target = (state.messages[active] ?? []).findLast((m) => m.role === "user" && (!revert || m.id < revert));
    if (!target) return toast("Nothing to undo");
    await client.session.revert({ sessionID: active, messageID: target.id });
    prefill(promptText(state, target.id));
  }, [active, state, client, prefill]);

  const redo = useCallback(async () => {
    if (!active) return;
    const revert = state.conversations[active]?.revert?.messageID;
    if (!revert) return toast("Nothing to redo");
    const next = (state.messages[active] ?? []).find((m) => m.role === "user" && m.id > revert);
    if (next) await client.session.revert({ sessionID: active, messageID: next.id });
    else await client.session.unrevert({ sessionID: active });
    prefill("");
  }, [active, state, client, prefill]);

  /** Forks the active conversation into a new one, up to and including `messageID` (all of it when absent). */
  const fork = useCallback(
    async (messageID?: string) => {
      if (!active) return;
      const messages = state.messages[active] ?? [];
      const after = messageID ? messages.find((m) => m.id > messageID)?.id : undefined;
      const forked = await client.session.fork({ sessionID: active, ...(after ? { messageID: after } : {}) });
      openCreated(forked.data!);
      toast("Forked into a new conversation");
    },
    [active, state.messages, client, openCreated],
  );

  const exportConversation = useCallback(async () => {
    if (!active) return;
    const messages = (await client.session.messages({ sessionID: active })).data ?? [];
    const title = state.conversations[active]?.title || "Conversation";
    downloadText(`${title.replace(/[^\w.-]+/g, "-").slice(0, 60) || "conversation"}.md`, conversationMarkdown(title, messages));
  }, [active, client, state.conversations]);

  const compact = useCallback(async () => {
    const chosen = model ?? fallbackModel;
    if (!active || !chosen) return;
    await client.session.summarize({ sessionID: active, providerID: chosen.providerID, modelID: chosen.modelID });
  }, [active, client, model, fallbackModel]);

  const runClientCommand = useCallback(
    async (name: string) => {
      const run = { new: newConversation, undo, redo, compact, fork: () => fork(), export: exportConversation }[name];
      await run?.();
    },
    [newConversation, undo, redo, compact, fork, exportConversation],
  );

  const send = useCallback(
    async ({ text, attachments }: Draft) => {
      const slash = parseSlash(text);
      try {
        if (slash && isClientCommand(slash.name)) return await runClientCommand(slash.name);
        const id = active ?? (await newConversation());
        await store.watch(id);
        if (text.startsWith("!") && text.length > 1) {
          await client.session.shell({ sessionID: id, agent: agent ?? "build", command: text.slice(1).trim(), ...(model ? { model } : {}) });
          return;
        }
        const files = attachments.map(toFilePart);
        if (slash && !text.includes("\n")) {
          const known = (await client.command.list()).data?.some((c) => c.name === slash.name);
          if (known) {
            // The command runs the whole turn before answering; its progress arrives on the event stream.
            client.session
              .command({ sessionID: id, command: slash.name, arguments: slash.args, ...(agent ? { agent } : {}), ...(model ? { model: `${model.providerID}/${model.modelID}` } : {}), parts: files })
              .catch((err) => toastError(`/${slash.name} failed`, err));
            return;
          }
        }
        await client.session.promptAsync({ sessionID: id, parts: [{ type: "text", text }, ...files], ...(model ? { model } : {}), ...(agent ? { agent } : {}) });
      } catch (err) {
        toastError(slash ? `/${slash.name} failed` : "Could not send the message", err);
        throw err;
      }
    },
    [active, newConversation, runClientCommand, store, client, agent, model],
  );

  /** Renames conversation `id`. @throws the API's error (the rename dialog shows it). */
  const rename = useCallback(async (id: string, title: string) => void (await client.session.update({ sessionID: id, title })), [client]);
  /** Deletes conversation `id` and its messages. @throws the API's error (the confirmation shows it). */
  const remove = useCallback(async (id: string) => void (await client.session.delete({ sessionID: id })), [client]);

  const guarded = <A extends unknown[]>(what: string, fn: (...args: A) => Promise<void>) => (...args: A) =>
    fn(...args).catch((err) => toastError(`Could not ${what}`, err));

  return {
    creating,
    newConversation,
    send,
    undo: guarded("undo", undo),
    redo: guarded("redo", redo),
    fork: guarded("fork", fork),
    rename,
    remove,
  };
}
