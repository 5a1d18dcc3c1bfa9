/**
 * A running session's work area: chat in the middle, files, changes and terminal in a side panel (tabs, resizable)
 * on wide screens; on a phone-sized screen the three become tabs along the bottom. Every panel stays
 * mounted when hidden, so the terminal's shell and the chat stream survive switching.
 */
import { useCallback, useState } from "react";
import { ChatPanel } from "../chat/ChatPanel.tsx";
import { ChatProvider, useChatStore } from "../chat/ChatContext.tsx";
import { ChangesPanel } from "../changes/ChangesPanel.tsx";
import { FilesPanel } from "../files/FilesPanel.tsx";
import type { Session } from "../lib/types.ts";
import { TerminalPanel } from "../terminal/TerminalPanel.tsx";
import { Icon } from "../ui/Icon.tsx";
import { useSideWidth } from "./useSideWidth.ts";
import { useMediaQuery } from "./useMediaQuery.ts";

type Tab = "chat" | "files" | "changes" | "terminal";
type Side = Exclude<Tab, "chat">;

const SIDE_LABEL: Record<Side, string> = { files: "Files", changes: "Changes", terminal: "Terminal" };
const TAB_ICON = { chat: "chat", files: "folder", changes: "edit", terminal: "terminal" } as const;

function Panels({ session }: { session: Session }) {
  const sessionId = session.id;
  const store = useChatStore();
  const phone = useMediaQuery("(max-width: 760px)");
  const [tab, setTab] = useState<Tab>("chat");
  const [side, setSide] = useState<Side>("files");
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
            {(Object.keys(SIDE_LABEL) as Side[]).map((t) => (
              <button key={t} type="button" role="tab" aria-selected={side === t} onClick={() => setSide(t)}>
                <Icon name={TAB_ICON[t]} size={14} /> {SIDE_LABEL[t]}
              </button>
            ))}
          </div>
        ) : null}
        <div className="side-panel" hidden={!visible("files")}>
          <FilesPanel sessionId={sessionId} subscribeChanges={subscribeChanges} />
        </div>
        <div className="side-panel" hidden={!visible("changes")}>
          <ChangesPanel session={session} visible={visible("changes")} subscribeChanges={subscribeChanges} />
        </div>
        <div className="side-panel" hidden={!visible("terminal")}>
          <TerminalPanel sessionId={sessionId} visible={visible("terminal")} />
        </div>
      </aside>
      {phone ? (
        <nav className="mobile-tabs" role="tablist" aria-label="Panels">
          {(["chat", "files", "changes", "terminal"] as const).map((t) => (
            <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => show(t)}>
              <Icon name={TAB_ICON[t]} size={18} />
              {t === "chat" ? "Chat" : SIDE_LABEL[t]}
            </button>
          ))}
        </nav>
      ) : null}
    </div>
  );
}

/** The work area of running octo session `session`, with its chat store. */
export function Workspace({ session }: { session: Session }) {
  return (
    <ChatProvider sessionId={session.id}>
      <Panels session={session} />
    </ChatProvider>
  );
}
