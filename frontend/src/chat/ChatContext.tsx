/**
 * Gives the components of one session's workspace the session's {@link ChatStore}: created when the
 * workspace mounts, its event stream opened, and closed when the workspace unmounts.
 */
import { createContext, type ReactNode, useContext, useEffect, useState, useSyncExternalStore } from "react";
import { ChatStore, type ChatSnapshot } from "./chatStore.ts";
import { warmUpChat } from "./warmUp.ts";

const ChatContext = createContext<ChatStore | null>(null);

/** Owns the store for octo session `sessionId`. */
export function ChatProvider({ sessionId, children }: { sessionId: string; children: ReactNode }) {
  const [store] = useState(() => new ChatStore(sessionId));
  useEffect(() => {
    store.start();
    warmUpChat();
    // A laptop waking up or a phone returning to the tab: do not wait for the idle timeout.
    const onVisible = () => document.visibilityState === "visible" && store.connection().kind !== "open" && store.reconnect();
    const onOnline = () => store.reconnect();
    document.addEventListener("visibilitychange", onVisible);
    window.addEventListener("online", onOnline);
    return () => {
      document.removeEventListener("visibilitychange", onVisible);
      window.removeEventListener("online", onOnline);
      store.stop();
    };
  }, [store]);
  return <ChatContext.Provider value={store}>{children}</ChatContext.Provider>;
}

/** The session's store (for actions: `store.client`, `watch`, …). */
export function useChatStore(): ChatStore {
  const store = useContext(ChatContext);
  if (!store) throw new Error("useChatStore outside ChatProvider");
  return store;
}

/** The session's chat snapshot, re-rendering on change. */
export function useChat(): ChatSnapshot {
  const store = useChatStore();
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
