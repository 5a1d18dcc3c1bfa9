/** Width of the side panel (files/terminal) in px, dragged with the splitter and kept in localStorage. */
import { type PointerEvent, useCallback, useState } from "react";

const KEY = "octo.sideWidth";
const MIN = 280;
const DEFAULT = 440;

function clamp(width: number): number {
  return Math.round(Math.min(Math.max(width, MIN), Math.max(MIN, window.innerWidth - 420)));
}

/** `{ width, startDrag }`: the side panel width and the splitter's pointer-down handler. */
export function useSideWidth() {
  const [width, setWidth] = useState(() => {
    const saved = Number(localStorage.getItem(KEY));
    return saved > 0 ? clamp(saved) : DEFAULT;
  });
  const startDrag = useCallback((e: PointerEvent<HTMLElement>) => {
    e.preventDefault();
    const target = e.currentTarget;
    target.setPointerCapture(e.pointerId);
    let last = width;
    const move = (ev: globalThis.PointerEvent) => {
      last = clamp(window.innerWidth - ev.clientX);
      setWidth(last);
    };
    const up = () => {
      target.removeEventListener("pointermove", move);
      target.removeEventListener("pointerup", up);
      try {
        localStorage.setItem(KEY, String(last));
      } catch {
        // not persisted
      }
    };
    target.addEventListener("pointermove", move);
    target.addEventListener("pointerup", up);
  }, [width]);
  return { width, startDrag };
}
