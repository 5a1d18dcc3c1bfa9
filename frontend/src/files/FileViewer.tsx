/**
 * Shows one workspace file: images inline, text with highlight.js colouring and line numbers, binary or
 * very large files as a download link. Re-fetches when `version` changes (the tree was refreshed), except
 * while the file is being edited. Edit opens CodeMirror (./CodeEditor.tsx, loaded on demand); Save writes
 * atomically through the file server with `If-Match` of the version opened, so a file changed underneath
 * (by the agent, the terminal) is not overwritten silently: a warning offers to overwrite or reload.
 */
import { lazy, Suspense, useEffect, useMemo, useState } from "react";
import { HttpError } from "../lib/http.ts";
import { toast, toastError } from "../ui/toast.ts";
import { formatBytes } from "../lib/format.ts";
import { Icon } from "../ui/Icon.tsx";
import type { FilesApi } from "./filesApi.ts";
import { highlighted, highlightLanguage } from "../lib/highlight.ts";
import { isImage, looksBinary } from "./fileKinds.ts";

const MAX_TEXT_BYTES = 2 * 1024 * 1024;

const CodeEditor = lazy(() => import("./CodeEditor.tsx"));

type Loaded =
  | { kind: "loading" }
  | { kind: "text"; text: string; etag: string | null }
  | { kind: "binary"; size: number }
  | { kind: "large"; size: number }
  | { kind: "error"; message: string };

/** The open file at `path`; `version` changes force a re-read. */
export function FileViewer({ api, path, version, onClose }: { api: FilesApi; path: string; version: number; onClose: () => void }) {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const image = isImage(name); // SVG too: in <img> its scripts never run
  const [loaded, setLoaded] = useState<Loaded>({ kind: "loading" });
  const [draft, setDraft] = useState<string | null>(null);
  const [conflict, setConflict] = useState(false);
  const [saving, setSaving] = useState(false);
  const [reloads, setReloads] = useState(0);
  const editing = draft !== null;

  useEffect(() => {
    setDraft(null);
    setConflict(false);
  }, [path]);

  useEffect(() => {
    if (image || editing) return;
    const controller = new AbortController();
    setLoaded((l) => (l.kind === "text" ? l : { kind: "loading" }));
    (async () => {
      try {
        const response = await api.read(path, controller.signal);
        const size = Number(response.headers.get("content-length") ?? "0");
        if (size > MAX_TEXT_BYTES) {
          await response.body?.cancel();
          return setLoaded({ kind: "large", size });
        }
        const bytes = new Uint8Array(await response.arrayBuffer());
        if (looksBinary(bytes)) return setLoaded({ kind: "binary", size: bytes.length });
        setLoaded({ kind: "text", text: new TextDecoder().decode(bytes), etag: response.headers.get("etag") });
      } catch (err) {
        if (!controller.signal.aborted) setLoaded({ kind: "error", message: err instanceof Error ? err.message : String(err) });
      }
    })();
    return () => controller.abort();
    // `editing` is left out on purpose: finishing an edit must not re-read what was just saved.
  }, [api, path, version, image, reloads]);

  const save = async (force = false) => {
    if (draft === null || loaded.kind !== "text" || saving) return;
    setSaving(true);
    try {
      const etag = await api.save(path, draft, force ? null : loaded.etag);
      setLoaded({ kind: "text", text: draft, etag });
      setDraft(null);
      setConflict(false);
      toast(`Saved ${name}`);
    } catch (err) {
      if (err instanceof HttpError && err.status === 412) setConflict(true);
      else toastError(`Could not save ${name}`, err);
    } finally {
      setSaving(false);
    }
  };
  const discard = () => {
    setDraft(null);
    setConflict(false);
    setReloads((n) => n + 1);
  };

  const html = useMemo(() => (loaded.kind === "text" ? highlighted(loaded.text, highlightLanguage(name)) : null), [loaded, name]);
  const lines = loaded.kind === "text" ? loaded.text.split("\n").length - (loaded.text.endsWith("\n") ? 1 : 0) : 0;

  return (
    <section className="file-viewer" aria-label={`File ${path}`}>
      <header className="file-viewer-head">
        <Icon name={image ? "image" : "file"} size={14} />
        <span className="file-viewer-path ellipsis" title={path}>
          {path}
        </span>
        {loaded.kind === "text" && !editing ? (
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => setDraft(loaded.text)} aria-label="Edit file" title="Edit">
            <Icon name="edit" size={13} /> Edit
          </button>
        ) : null}
        {editing ? (
          <>
            <button type="button" className="btn btn-primary btn-sm" onClick={() => void save()} disabled={saving} title="Save (Ctrl+S)">
              {saving ? <span className="spinner" /> : <Icon name="check" size={13} />} Save
            </button>
            <button type="button" className="btn btn-ghost btn-sm" onClick={discard} disabled={saving}>
              Cancel
            </button>
          </>
        ) : null}
        <a className="btn btn-ghost btn-sm btn-icon" href={api.downloadUrl(path)} download aria-label="Download file" title="Download">
          <Icon name="download" size={14} />
        </a>
        <button type="button" className="btn btn-ghost btn-sm btn-icon" onClick={onClose} aria-label="Close file" title="Close">
          <Icon name="x" size={14} />
        </button>
      </header>
      {conflict ? (
        <div className="banner warning" role="alert">
          {name} changed on disk since you opened it. Saving would overwrite that change.
          <button type="button" className="btn btn-sm btn-danger" onClick={() => void save(true)}>
            Overwrite
          </button>
          <button type="button" className="btn btn-sm" onClick={discard}>
            Reload
          </button>
        </div>
      ) : null}
      <div className="file-viewer-body">
        {editing ? (
          <Suspense fallback={<p className="muted tool-pad"><span className="spinner" /> Loading the editor…</p>}>
            <CodeEditor name={name} initial={loaded.kind === "text" ? loaded.text : ""} onChange={setDraft} onSave={() => void save()} />
          </Suspense>
        ) : image ? (
          <div className="file-image">
            <img src={`${api.fileUrl(path)}&v=${version}`} alt={name} />
          </div>
        ) : loaded.kind === "loading" ? (
          <p className="muted tool-pad">
            <span className="spinner" /> Loading…
          </p>
        ) : loaded.kind === "error" ? (
          <p className="error-text">{loaded.message}</p>
        ) : loaded.kind === "binary" || loaded.kind === "large" ? (
          <div className="empty">
            <p>
              {loaded.kind === "binary" ? "Binary file" : "Large file"} ({formatBytes(loaded.size)}); not shown.
            </p>
            <a className="btn" href={api.downloadUrl(path)} download>
              <Icon name="download" size={14} /> Download
            </a>
          </div>
        ) : (
          <div className="code-view">
            <pre className="code-gutter" aria-hidden>
              {Array.from({ length: Math.max(lines, 1) }, (_, i) => i + 1).join("\n")}
            </pre>
            {html !== null ? (
              <pre className="code-text hljs" dangerouslySetInnerHTML={{ __html: html }} />
            ) : (
              <pre className="code-text">{loaded.text}</pre>
            )}
          </div>
        )}
      </div>
    </section>
  );
}
