/**
 * Keeps a scroll container at the bottom while its content grows (streaming text), unless the user
 * scrolled up to read; then `pinned` is false and the view stays put until they return to the bottom.
 */
import { type RefObject, useCallback, useEffect, useRef, useState } from "react";

const THRESHOLD_PX = 48;

/** `{ pinned, scrollToBottom }` for scroll container `scroller` whose growing child is `content`. */
export function useStickToBottom(scroller: RefObject<HTMLElement | null>, content: RefObject<HTMLElement | null>) {
  const [pinned, setPinned] = useState(true);
  const pinnedRef = useRef(true);

  const scrollToBottom = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    pinnedRef.current = true;
    setPinned(true);
  }, [scroller]);

  useEffect(() => {
    const el = scroller.current;
    const inner = content.current;
    if (!el || !inner) return;
    const onScroll = () => {
      const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < THRESHOLD_PX;
      if (atBottom !== pinnedRef.current) {
        pinnedRef.current = atBottom;
        setPinned(atBottom);
      }
    };
    const observer = new ResizeObserver(() => {
      if (pinnedRef.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(inner);
    el.addEventListener("scroll", onScroll, { passive: true });
    return () => {
      observer.disconnect();
      el.removeEventListener("scroll", onScroll);
    };
  }, [scroller, content]);

  return { pinned, scrollToBottom };
}
