/**
 * Ctrl+F (Cmd+F on macOS) inside the chat panel opens its find bar instead of the browser's, whose find
 * misses the messages the virtualized thread has not rendered. "Inside" means focus is in `root`, or the
 * last click or tap was (reading the thread leaves focus on the page's body). Elsewhere the browser's own
 * find opens as usual.
 */
import { type RefObject, useEffect } from "react";

/** Calls `onFind` (and keeps the browser's find closed) for Ctrl/Cmd+F while the chat panel `root` is in use. */
export function useFindShortcut(root: RefObject<HTMLElement | null>, onFind: () => void): void {
  useEffect(() => {
    let lastPointer: EventTarget | null = null;
    const pointer = (e: PointerEvent) => void (lastPointer = e.target);
    const key = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey || e.key.toLowerCase() !== "f") return;
      const el = root.current;
      if (!el) return;
      const focused = document.activeElement;
      const unfocused = !focused || focused === document.body;
      const inside = unfocused ? lastPointer instanceof Node && el.contains(lastPointer) : el.contains(focused);
      if (!inside) return;
      e.preventDefault();
      onFind();
    };
    document.addEventListener("pointerdown", pointer, true);
    document.addEventListener("keydown", key);
    return () => {
      document.removeEventListener("pointerdown", pointer, true);
      document.removeEventListener("keydown", key);
    };
  }, [root, onFind]);
}
