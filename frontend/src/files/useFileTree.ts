/**
 * Lazily loaded directory tree: each expanded directory is listed with `GET /tree?depth=1` on demand, and
 * `refresh()` re-lists the root and every expanded directory (after the agent wrote files, an upload, a
 * rename…), keeping what is expanded. Directories that disappeared are collapsed. Listings still loading
 * when the panel unmounts are cancelled. Git's own `.git` directories are not shown (every workspace is a
 * git repository; see container/entrypoint.sh).
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { FilesApi, TreeEntry } from "./filesApi.ts";

export interface FileTree {
  /** Listings by directory path ("" = root); absent = not loaded yet. */
  listings: Record<string, TreeEntry[]>;
  expanded: ReadonlySet<string>;
  loading: ReadonlySet<string>;
  error: string | null;
  toggle(dir: string): void;
  expand(dir: string): Promise<void>;
  refresh(): Promise<void>;
}

/** The tree state for one file server (see {@link FileTree}); lists the root at once. */
export function useFileTree(api: FilesApi): FileTree {
  const [listings, setListings] = useState<Record<string, TreeEntry[]>>({});
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [loading, setLoading] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const expandedRef = useRef(expanded);
  expandedRef.current = expanded;
  const unmounted = useRef(new AbortController());
  useEffect(() => {
    const controller = new AbortController();
    unmounted.current = controller;
    return () => controller.abort();
  }, []);

  const load = useCallback(
    async (dir: string): Promise<boolean> => {
      setLoading((s) => new Set(s).add(dir));
      try {
        const entries = (await api.tree(dir, 1, unmounted.current.signal)).filter((e) => e.name !== ".git");
        setListings((l) => ({ ...l, [dir]: entries }));
        setError(null);
        return true;
      } catch (err) {
        if (unmounted.current.signal.aborted) return false;
        if (dir === "") setError(err instanceof Error ? err.message : String(err));
        setListings((l) => {
          const next = { ...l };
          delete next[dir];
          return next;
        });
        return false;
      } finally {
        setLoading((s) => {
          const next = new Set(s);
          next.delete(dir);
          return next;
        });
      }
    },
    [api],
  );

  const refresh = useCallback(async () => {
    const dirs = ["", ...expandedRef.current];
    const results = await Promise.all(dirs.map((d) => load(d)));
    const gone = dirs.filter((d, i) => d !== "" && !results[i]);
    if (gone.length) {
      setExpanded((s) => {
        const next = new Set(s);
        for (const d of gone) next.delete(d);
        return next;
      });
    }
  }, [load]);

  const expand = useCallback(
    async (dir: string) => {
      setExpanded((s) => new Set(s).add(dir));
      await load(dir);
    },
    [load],
  );

  const toggle = useCallback(
    (dir: string) => {
      if (expandedRef.current.has(dir)) {
        setExpanded((s) => {
          const next = new Set(s);
          next.delete(dir);
          return next;
        });
      } else void expand(dir);
    },
    [expand],
  );

  useEffect(() => {
    void load("");
  }, [load]);

  return { listings, expanded, loading, error, toggle, expand, refresh };
}
