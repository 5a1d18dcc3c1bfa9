/** An xterm.js theme from the app's CSS variables, so the terminal follows light/dark. */
import type { ITheme } from "@xterm/xterm";

/** Reads the resolved colours from `<html>`'s computed style (light-dark() resolved to rgb). */
export function xtermTheme(): ITheme {
  const style = getComputedStyle(document.documentElement);
  const v = (name: string) => style.getPropertyValue(name).trim();
  const probe = document.createElement("span");
  const resolve = (value: string) => {
    // light-dark(...) is only resolved on a property, not in a custom property's computed value.
    probe.style.color = value;
    document.body.appendChild(probe);
    const color = getComputedStyle(probe).color;
    probe.remove();
    return color;
  };
  const dark = matchMedia("(prefers-color-scheme: dark)").matches
    ? document.documentElement.dataset.theme !== "light"
    : document.documentElement.dataset.theme === "dark";
  return {
    background: resolve(v("--code-bg")),
    foreground: resolve(v("--text")),
    cursor: resolve(v("--accent")),
    cursorAccent: resolve(v("--code-bg")),
    selectionBackground: dark ? "rgba(167,139,250,0.35)" : "rgba(109,40,217,0.2)",
    ...(dark
      ? {}
      : {
          // xterm's default palette is tuned for dark backgrounds; darker yellows/whites read on light.
          black: "#1f2328",
          yellow: "#9a6700",
          brightYellow: "#7d4e00",
          white: "#6e7781",
          brightWhite: "#8c959f",
        }),
  };
}
