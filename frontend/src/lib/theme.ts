/**
 * Light/dark theme: "system" follows `prefers-color-scheme`; an explicit choice is stored in localStorage
 * under `octo.theme` (read before first paint by public/theme-init.js) and set as `<html data-theme>`.
 */
import { useCallback, useSyncExternalStore } from "react";

export type ThemeChoice = "system" | "light" | "dark";
const KEY = "octo.theme";
const listeners = new Set<() => void>();

function read(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

/** The theme actually shown ("light" or "dark"), resolving "system". */
export function effectiveTheme(choice: ThemeChoice = read()): "light" | "dark" {
  if (choice !== "system") return choice;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/** Current choice and a setter that persists it and updates `<html data-theme>`. */
export function useTheme(): [ThemeChoice, (choice: ThemeChoice) => void] {
  const choice = useSyncExternalStore((l) => {
    listeners.add(l);
    return () => listeners.delete(l);
  }, read);
  const set = useCallback((next: ThemeChoice) => {
    try {
      if (next === "system") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, next);
    } catch {
      // storage disabled: the choice lasts for this page only
    }
    if (next === "system") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = next;
    for (const l of listeners) l();
  }, []);
  return [choice, set];
}
