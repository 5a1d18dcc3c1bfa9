/**
 * A running session's work area: chat in the middle, files and terminal in a side panel (tabs, resizable)
 * on wide screens; on a phone-sized screen the three become tabs along the bottom. Every panel stays
 * mounted when hidden, so the terminal's shell and the chat stream survive switching.
 */
import { useCallback, useState } from "react";
import { ChatPanel } from "../chat/ChatPanel.tsx";
import { ChatProvider, useChatStore } from "../chat/ChatContext.tsx";
import { FilesPanel } from "../files/FilesPanel.tsx";
import { TerminalPanel } from "../terminal/TerminalPanel.tsx";
import { Icon } from "../ui/Icon.tsx";
import { useSideWidth } from "./useSideWidth.ts";
import { useMediaQuery } from "./useMediaQuery.ts";

type Tab = "chat" | "files" | "terminal";

function Panels({ sessionId }: { sessionId: string }) {
  const store = useChatStore();
  const phone = useMediaQuery("(max-width: 760px)");
  const [tab, setTab] = useState<Tab>("chat");
  const [side, setSide] = useState<"files" | "terminal">("files");
  const { width, startDrag } = useSideWidth();
  const subscribeChanges = useCallback((listener: () => void) => store.onFilesChanged(listener), [store]);

  const show = (next: Tab) => {
    setTab(next);
    if (next !== "chat") setSide(next);
  };
  const visible = (panel: Tab) => (phone ? tab === panel : panel === "chat" || side === panel);

  return (
    <div className="workspace" style={{ "--side-width": `${width}px` } as React.CSSProperties}>
      <section className="workspace-chat" hidden={!visible("chat")} aria-label="Chat">
        <ChatPanel sessionId={sessionId} />
      </section>
      {!phone ? <div className="side-resizer" role="separator" aria-orientation="vertical" aria-label="Resize side panel" onPointerDown={startDrag} /> : null}
      <aside className="workspace-side" hidden={phone && tab === "chat"}>
        {!phone ? (
          <div className="side-tabs" role="tablist">
            <button type="button" role="tab" aria-selected={side === "files"} onClick={() => setSide("files")}>
              <Icon name="folder" size={14} /> Files
            </button>
            <button type="button" role="tab" aria-selected={side === "terminal"} onClick={() => setSide("terminal")}>
              <Icon name="terminal" size={14} /> Terminal
            </button>
          </div>
        ) : null}
        <div className="side-panel" hidden={!visible("files")}>
          <FilesPanel sessionId={sessionId} subscribeChanges={subscribeChanges} />
        </div>
        <div className="side-panel" hidden={!visible("terminal")}>
          <TerminalPanel sessionId={sessionId} visible={visible("terminal")} />
        </div>
      </aside>
      {phone ? (
        <nav className="mobile-tabs" role="tablist" aria-label="Panels">
          {(["chat", "files", "terminal"] as const).map((t) => (
            <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => show(t)}>
              <Icon name={t === "chat" ? "chat" : t === "files" ? "folder" : "terminal"} size={18} />
              {t === "chat" ? "Chat" : t === "files" ? "Files" : "Terminal"}
            </button>
          ))}
        </nav>
      ) : null}
    </div>
  );
}

/** The work area of running octo session `sessionId`, with its chat store. */
export function Workspace({ sessionId }: { sessionId: string }) {
  return (
    <ChatProvider sessionId={sessionId}>
      <Panels sessionId={sessionId} />
    </ChatProvider>
  );
}
