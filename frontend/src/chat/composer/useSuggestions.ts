/**
 * The suggestions for the composer's current trigger (see triggers.ts): slash commands (fetched once from
 * `GET /command`, filtered as you type) or workspace files (`GET /find/file?query=`, OpenCode's fuzzy file
 * search, debounced). Answers the visible items and the keyboard index.
 */
import { useEffect, useMemo, useState } from "react";
import { useChatStore } from "../ChatContext.tsx";
import { type SlashCommand, slashCommands } from "./commands.ts";
import { filterByName, type Trigger } from "./triggers.ts";

/** Most files listed for a mention. */
const MAX_FILES = 12;
/** Pause after the last keystroke before searching files, ms. */
const SEARCH_DEBOUNCE_MS = 120;

export type SuggestionItem = { kind: "command"; command: SlashCommand } | { kind: "file"; path: string };

/** Items for `trigger` (empty when there is none) and the active index with its setter. */
export function useSuggestions(trigger: Trigger | null) {
  const store = useChatStore();
  const [server, setServer] = useState<Array<{ name: string; description?: string }>>([]);
  const [files, setFiles] = useState<string[]>([]);
  const [active, setActive] = useState(0);

  const wantsCommands = trigger?.kind === "slash";
  useEffect(() => {
    if (!wantsCommands) return;
    let cancelled = false;
    store.client.command.list().then(
      (r) => !cancelled && setServer((r.data ?? []).map((c) => ({ name: c.name, description: c.description }))),
      () => undefined, // the client commands still work
    );
    return () => {
      cancelled = true;
    };
  }, [store, wantsCommands]);

  const fileQuery = trigger?.kind === "mention" ? trigger.query : null;
  useEffect(() => {
    if (fileQuery === null) return;
    let cancelled = false;
    const timer = setTimeout(() => {
      store.client.find.files({ query: fileQuery, dirs: "false", limit: MAX_FILES }).then(
        (r) => !cancelled && setFiles((r.data ?? []).filter((p) => !p.startsWith(".git/")).slice(0, MAX_FILES)),
        () => !cancelled && setFiles([]),
      );
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [store, fileQuery]);

  const items = useMemo<SuggestionItem[]>(() => {
    if (!trigger) return [];
    if (trigger.kind === "slash") return filterByName(slashCommands(server), trigger.query).map((command) => ({ kind: "command", command }));
    return files.map((path) => ({ kind: "file", path }));
  }, [trigger, server, files]);

  // A new query starts at the first item.
  const query = trigger ? `${trigger.kind}:${trigger.query}` : "";
  useEffect(() => setActive(0), [query]);

  return { items, active: Math.min(active, Math.max(items.length - 1, 0)), setActive };
}
