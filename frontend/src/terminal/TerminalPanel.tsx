/**
 * The session's terminal: a {@link TerminalSession} in a panel that fits it on every size change
 * (ResizeObserver), follows the theme, and shows the connection state with a reconnect / new shell button.
 * It stays mounted while hidden (other tab) so the shell survives tab switches, but nothing is set up before
 * its tab is first shown: xterm measures its cell size and fits the element when it opens, which is wrong
 * (and wasted work on the session's first render) in a hidden panel, and the shell starts only when
 * someone looks at it.
 */
import { useEffect, useRef, useState } from "react";
import { ConnectionPill } from "../ui/ConnectionPill.tsx";
import { Icon } from "../ui/Icon.tsx";
import type { TermState } from "./termConnection.ts";
import type { TerminalSession } from "./TerminalSession.ts";

/**
 * xterm.js and its addons, in a chunk of their own loaded when a terminal is first shown: evaluating
 * xterm's modules (its parser's transition tables among them) was main-thread time in every session's
 * first render, terminal or not.
 */
const loadTerminalSession = () => import("./TerminalSession.ts").then((m) => m.TerminalSession);

function StateLabel({ state, onReconnect }: { state: TermState; onReconnect: () => void }) {
  switch (state.kind) {
    case "open":
      return <ConnectionPill tone="live" label="Connected" />;
    case "connecting":
      return <ConnectionPill tone="connecting" label="Connecting…" />;
    case "reconnecting":
      return <ConnectionPill tone="waiting" label={`Reconnecting (${state.reason})`} title={state.reason} action={{ label: "Now", onClick: onReconnect }} />;
    case "exited":
      return <ConnectionPill tone="failed" label={state.reason} action={{ label: "New shell", onClick: onReconnect }} />;
  }
}

/**
 * The terminal of octo session `sessionId`: created and connected when `visible` first turns true, refitted
 * and focused each time its tab is shown again.
 */
export function TerminalPanel({ sessionId, visible }: { sessionId: string; visible: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const session = useRef<TerminalSession | null>(null);
  const [state, setState] = useState<TermState>({ kind: "connecting" });
  const [shown, setShown] = useState(visible);
  if (visible && !shown) setShown(true);

  const visibleNow = useRef(visible);
  visibleNow.current = visible;

  useEffect(() => {
    const element = host.current;
    if (!element || !shown) return;
    let disposed = false;
    let teardown: (() => void) | null = null;
    loadTerminalSession().then(
      (TerminalSession) => {
        if (disposed) return;
        const term = new TerminalSession(sessionId, setState);
        session.current = term;
        term.mount(element);
        const resize = new ResizeObserver(() => term.fitNow());
        resize.observe(element);
        const themeObserver = new MutationObserver(() => term.applyTheme());
        themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
        const media = matchMedia("(prefers-color-scheme: dark)");
        const onMedia = () => term.applyTheme();
        media.addEventListener("change", onMedia);
        if (visibleNow.current) requestAnimationFrame(() => visibleNow.current && term.focus());
        teardown = () => {
          resize.disconnect();
          themeObserver.disconnect();
          media.removeEventListener("change", onMedia);
          term.dispose();
          session.current = null;
        };
      },
      (err: unknown) => !disposed && setState({ kind: "exited", reason: `The terminal could not load: ${err instanceof Error ? err.message : String(err)}` }),
    );
    return () => {
      disposed = true;
      teardown?.();
    };
  }, [sessionId, shown]);

  useEffect(() => {
    if (!visible) return;
    const term = session.current;
    requestAnimationFrame(() => {
      term?.fitNow();
      term?.focus();
    });
  }, [visible]);

  return (
    <section className="terminal-panel" aria-label="Terminal">
      <div className="panel-toolbar">
        <span className="panel-title">
          <Icon name="terminal" size={14} /> Terminal
        </span>
        <span className="spacer" />
        <StateLabel state={state} onReconnect={() => session.current?.reconnect()} />
      </div>
      <div className="terminal-host" ref={host} onClick={() => session.current?.focus()} />
    </section>
  );
}
