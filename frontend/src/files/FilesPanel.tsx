/**
 * The workspace file browser: toolbar (upload, new folder, download all, refresh), the tree, and the open
 * file. Files can be dropped anywhere on the panel; uploads and new folders go into the selected folder
 * (or the selected file's folder). The tree refreshes when anything changes the workspace (the file
 * server's live events, ./useWorkspaceEvents.ts: the agent, the terminal, another tab), when OpenCode
 * reports edits (`subscribeChanges`: `file.edited` / `session.diff`), and after every change made here.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";
import { Icon } from "../ui/Icon.tsx";
import { PromptDialog } from "../ui/PromptDialog.tsx";
import { toast, toastError } from "../ui/toast.ts";
import { filesApi, joinPath, parentDir, type TreeEntry } from "./filesApi.ts";
import { FileTreeNode, type TreeActions } from "./FileTreeNode.tsx";
import { FileViewer } from "./FileViewer.tsx";
import { useDropUpload } from "./useDropUpload.ts";
import { useFileTree } from "./useFileTree.ts";
import { useWorkspaceEvents } from "./useWorkspaceEvents.ts";
import { mentionInChat } from "../chat/composer/mentions.ts";

const REFRESH_DEBOUNCE_MS = 400;

type Dialog = { kind: "mkdir" } | { kind: "rename"; entry: TreeEntry } | { kind: "delete"; entry: TreeEntry } | null;

/** The file browser of octo session `sessionId`; `subscribeChanges` reports agent-side changes. */
export function FilesPanel({ sessionId, subscribeChanges }: { sessionId: string; subscribeChanges: (listener: () => void) => () => void }) {
  const api = useMemo(() => filesApi(sessionId), [sessionId]);
  const tree = useFileTree(api);
  const [selected, setSelected] = useState<TreeEntry | null>(null);
  const [openFile, setOpenFile] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [uploading, setUploading] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  const refresh = useCallback(async () => {
    await tree.refresh();
    setVersion((v) => v + 1);
  }, [tree.refresh]);

  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const refreshSoon = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => void refresh(), REFRESH_DEBOUNCE_MS);
  }, [refresh]);
  useEffect(() => {
    const off = subscribeChanges(refreshSoon);
    return () => {
      clearTimeout(timer.current);
      off();
    };
  }, [subscribeChanges, refreshSoon]);
  useWorkspaceEvents(sessionId, refreshSoon);

  /** Expands every folder above `path` so the entry there is on screen. */
  const reveal = useCallback(
    async (path: string) => {
      const parts = parentDir(path).split("/").filter(Boolean);
      for (let i = 1; i <= parts.length; i++) await tree.expand(parts.slice(0, i).join("/"));
    },
    [tree.expand],
  );

  const targetDir = selected ? (selected.type === "directory" ? selected.path : parentDir(selected.path)) : "";

  const upload = useCallback(
    async (files: File[]) => {
      setUploading(true);
      try {
        const written = await api.upload(targetDir, files);
        toast(`Uploaded ${written.length} file${written.length === 1 ? "" : "s"}${targetDir ? ` to ${targetDir}` : ""}`);
        if (targetDir) await reveal(joinPath(targetDir, files[0]!.name));
        await refresh();
      } catch (err) {
        toastError("Upload failed", err);
      } finally {
        setUploading(false);
      }
    },
    [api, targetDir, reveal, refresh],
  );
  const drop = useDropUpload(upload);

  const actions: TreeActions = {
    open(entry) {
      setSelected(entry);
      if (entry.type === "directory") tree.toggle(entry.path);
      else setOpenFile(entry.path);
    },
    rename: (entry) => setDialog({ kind: "rename", entry }),
    mention: (entry) => mentionInChat(entry.path),
    remove: (entry) => setDialog({ kind: "delete", entry }),
    downloadUrl: (entry) => api.downloadUrl(entry.path),
  };

  const root = tree.listings[""];
  return (
    <section className={drop.dragging ? "files dragging" : "files"} aria-label="Files" {...drop.handlers}>
      <div className="panel-toolbar">
        <span className="panel-title">Files</span>
        <span className="files-target ellipsis muted small" title="Uploads and new folders go here">
          {targetDir ? `in ${targetDir}/` : ""}
        </span>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          aria-label="Upload files"
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            e.target.value = "";
            if (files.length) void upload(files);
          }}
        />
        <button type="button" className="btn btn-ghost btn-sm btn-icon" title="Upload files" aria-label="Upload files" disabled={uploading} onClick={() => fileInput.current?.click()}>
          {uploading ? <span className="spinner" /> : <Icon name="upload" size={15} />}
        </button>
        <button type="button" className="btn btn-ghost btn-sm btn-icon" title="New folder" aria-label="New folder" onClick={() => setDialog({ kind: "mkdir" })}>
          <Icon name="folderPlus" size={15} />
        </button>
        <a className="btn btn-ghost btn-sm btn-icon" href={api.downloadUrl("")} download title="Download workspace as zip" aria-label="Download workspace as zip">
          <Icon name="download" size={15} />
        </a>
        <button type="button" className="btn btn-ghost btn-sm btn-icon" title="Refresh" aria-label="Refresh files" onClick={() => void refresh()}>
          <Icon name="refresh" size={15} />
        </button>
      </div>
      <div className={openFile ? "files-body split" : "files-body"}>
        <div className="tree" onClick={(e) => e.target === e.currentTarget && setSelected(null)}>
          {tree.error ? <p className="error-text small">{tree.error}</p> : null}
          {root === undefined ? (
            tree.error ? null : (
              <p className="muted small tool-pad">
                <span className="spinner" /> Loading…
              </p>
            )
          ) : root.length === 0 ? (
            <p className="muted small tool-pad">The workspace is empty. Drop files here to upload.</p>
          ) : (
            <ul role="tree" aria-label="Workspace files">
              {root.map((entry) => (
                <FileTreeNode key={entry.path} entry={entry} depth={0} tree={tree} selected={selected?.path ?? null} actions={actions} />
              ))}
            </ul>
          )}
        </div>
        {openFile ? <FileViewer api={api} path={openFile} version={version} onClose={() => setOpenFile(null)} /> : null}
      </div>
      {drop.dragging ? (
        <div className="drop-overlay">
          <Icon name="upload" size={28} />
          Drop to upload{targetDir ? ` into ${targetDir}/` : " to the workspace"}
        </div>
      ) : null}
      <PromptDialog
        open={dialog?.kind === "mkdir"}
        title="New folder"
        label={`Name (inside ${targetDir || "the workspace root"})`}
        confirmLabel="Create"
        onClose={() => setDialog(null)}
        onSubmit={async (name) => {
          const path = joinPath(targetDir, name);
          await api.mkdir(path);
          await reveal(path);
          await refresh();
        }}
      />
      <PromptDialog
        open={dialog?.kind === "rename"}
        title="Rename or move"
        label="New path"
        initial={dialog?.kind === "rename" ? dialog.entry.path : ""}
        confirmLabel="Rename"
        onClose={() => setDialog(null)}
        onSubmit={async (newPath) => {
          if (dialog?.kind !== "rename" || newPath === dialog.entry.path) return;
          const moved = await api.rename(dialog.entry.path, newPath);
          if (openFile === dialog.entry.path) setOpenFile(moved.path);
          setSelected(moved);
          await reveal(moved.path);
          await refresh();
        }}
      />
      <ConfirmDialog
        open={dialog?.kind === "delete"}
        title={dialog?.kind === "delete" ? `Delete ${dialog.entry.name}?` : "Delete"}
        confirmLabel="Delete"
        danger
        onClose={() => setDialog(null)}
        onConfirm={async () => {
          if (dialog?.kind !== "delete") return;
          const { entry } = dialog;
          await api.remove(entry.path);
          if (openFile && (openFile === entry.path || openFile.startsWith(`${entry.path}/`))) setOpenFile(null);
          if (selected?.path === entry.path) setSelected(null);
          await refresh();
        }}
      >
        <p className="muted">
          {dialog?.kind === "delete" && dialog.entry.type === "directory"
            ? `The folder ${dialog.entry.path} and everything in it will be deleted.`
            : `${dialog?.kind === "delete" ? dialog.entry.path : ""} will be deleted.`}{" "}
          This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}
