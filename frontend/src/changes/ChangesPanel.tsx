/**
 * The Changes panel: the files the session changed against its base commit (counts per file, live while the
 * agent edits), each file's diff with syntax colouring (unified or split), discard with a confirmation, a
 * commit message prefilled from the conversation (./commitMessage.ts),
 * commit (message), push to a branch of the session's repository (sent again once if its request got no
 * answer: ./push.ts), and open a pull request on its forge
 * (linked once opened). Errors show git's or the forge's message.
 */
import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { FileDiff } from "../../../server/modules/changes/model.ts";
import { useChatStore } from "../chat/ChatContext.tsx";
import { DiffView } from "../chat/DiffView.tsx";
import { rowsFromPatch } from "../chat/diffRows.ts";
import { api } from "../lib/api.ts";
import { highlightLanguage } from "../lib/highlight.ts";
import type { Session } from "../lib/types.ts";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";
import { Icon } from "../ui/Icon.tsx";
import { toast } from "../ui/toast.ts";
import { useAsyncAction } from "../ui/useAsyncAction.ts";
import { proposedCommitMessage } from "./commitMessage.ts";
import { pushOnce } from "./push.ts";
import { useChanges } from "./useChanges.ts";

const STATUS_MARK: Record<string, string> = { added: "A", modified: "M", deleted: "D", renamed: "R", copied: "C", type_changed: "T" };

/**
 * The commit message the chat proposes (commitMessage.ts), re-read from the chat store while the panel is
 * `visible` only: hidden, the panel keeps the last one and is not rendered again for every streamed delta
 * (the agent's answer being the message's body, each delta changes it). Read afresh when it shows.
 */
function useProposedMessage(visible: boolean): string {
  const store = useChatStore();
  const last = useRef<string | null>(null);
  const read = () => {
    if (visible || last.current === null) last.current = proposedCommitMessage(store.getSnapshot().state);
    return last.current;
  };
  return useSyncExternalStore(store.subscribe, read);
}

/** A session's Changes panel; `subscribeChanges` signals OpenCode's file events. */
export function ChangesPanel({ session, visible, subscribeChanges }: { session: Session; visible: boolean; subscribeChanges: (listener: () => void) => () => void }) {
  const { list, error, refresh } = useChanges(session.id, visible, subscribeChanges);
  const [open, setOpen] = useState<string | null>(null);
  const [diff, setDiff] = useState<FileDiff | null>(null);
  const [diffError, setDiffError] = useState<string | null>(null);
  const [split, setSplit] = useState(false);
  const [discarding, setDiscarding] = useState<string | null>(null);
  const [message, setMessage] = useState("");
  const [edited, setEdited] = useState(false);
  // Prefilled from the conversation until the user types (commitMessage.ts).
  const proposal = useProposedMessage(visible);
  useEffect(() => {
    if (!edited) setMessage(proposal);
  }, [proposal, edited]);
  const [branch, setBranch] = useState(`octo/${session.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || session.id}`);
  const commit = useAsyncAction();
  const push = useAsyncAction();
  const pr = useAsyncAction();
  const [prUrl, setPrUrl] = useState<string | null>(session.pull_request_url);

  useEffect(() => {
    if (!open) {
      setDiffError(null);
      return setDiff(null);
    }
    let live = true;
    api.fileDiff(session.id, open).then(
      (d) => {
        if (!live) return;
        setDiff(d as FileDiff);
        setDiffError(null);
      },
      (err: unknown) => {
        if (!live) return;
        setDiff(null);
        setDiffError(`The diff could not be loaded: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
    return () => {
      live = false;
    };
  }, [open, session.id, list]);

  const files = list?.files ?? [];
  const added = files.reduce((n, f) => n + f.additions, 0);
  const removed = files.reduce((n, f) => n + f.deletions, 0);

  return (
    <div className="changes" aria-label="Changes">
      <div className="changes-bar">
        <strong>{files.length} changed</strong>
        <span className="diff-add-count">+{added}</span>
        <span className="diff-del-count">−{removed}</span>
        <span className="spacer" />
        <label className="small">
          <input type="checkbox" checked={split} onChange={(e) => setSplit(e.target.checked)} /> Split
        </label>
        <button type="button" className="btn btn-ghost btn-sm" aria-label="Refresh changes" onClick={() => void refresh()}>
          <Icon name="refresh" size={14} />
        </button>
      </div>
      {error ? <p className="error-text small">{error}</p> : null}
      <ul className="changes-list" aria-label="Changed files">
        {files.map((f) => (
          <li key={f.path} className={open === f.path ? "open" : ""}>
            <button type="button" className="changes-file" onClick={() => setOpen(open === f.path ? null : f.path)}>
              <span className={`change-status ${f.status}`} title={f.status}>
                {STATUS_MARK[f.status]}
              </span>
              <span className="changes-path">{f.old_path ? `${f.old_path} → ${f.path}` : f.path}</span>
              {f.binary ? <span className="muted small">binary</span> : (
                <>
                  <span className="diff-add-count">+{f.additions}</span>
                  <span className="diff-del-count">−{f.deletions}</span>
                </>
              )}
            </button>
            <button type="button" className="btn btn-ghost btn-sm" aria-label={`Discard changes of ${f.path}`} onClick={() => setDiscarding(f.path)}>
              <Icon name="trash" size={13} />
            </button>
            {open === f.path && diffError ? <p className="error-text small tool-pad">{diffError}</p> : null}
            {open === f.path && diff?.path === f.path ? (
              diff.binary ? <p className="muted small tool-pad">Binary file changed.</p> : <DiffView rows={rowsFromPatch(diff.diff)} maxLines={2000} language={highlightLanguage(f.path)} split={split} />
            ) : null}
          </li>
        ))}
        {list && files.length === 0 ? <li className="muted small tool-pad">No changes against the base commit.</li> : null}
      </ul>
      <form
        className="changes-commit"
        onSubmit={(e) => {
          e.preventDefault();
          void commit.run(async () => {
            const result = await api.commit(session.id, message);
            toast(`Committed ${result.commit.slice(0, 10)}`);
            setMessage("");
            setEdited(true);
            await refresh();
          });
        }}
      >
        <textarea className="input" aria-label="Commit message" placeholder="Commit message" rows={3} value={message} required onChange={(e) => {
            setEdited(true);
            setMessage(e.target.value);
          }} />
        <button type="submit" className="btn btn-primary btn-sm" disabled={commit.busy || !message.trim()}>
          Commit
        </button>
        {commit.error ? <p className="error-text small">{commit.error}</p> : null}
      </form>
      {session.repository ? (
        <form
          className="changes-push"
          onSubmit={(e) => {
            e.preventDefault();
            const target = branch.trim();
            void push.run(async () => {
              const result = await pushOnce(target, () => api.push(session.id, target));
              toast(result.kind === "pushed" ? `Pushed ${result.commit.slice(0, 10)} to ${result.branch}` : `${result.branch} is at HEAD`);
            });
          }}
        >
          <input className="input" aria-label="Branch" value={branch} required onChange={(e) => setBranch(e.target.value)} />
          <button type="submit" className="btn btn-sm" disabled={push.busy}>
            Push
          </button>
          <button
            type="button"
            className="btn btn-sm"
            disabled={pr.busy}
            onClick={() =>
              void pr.run(async () => {
                const result = await api.pullRequest(session.id, { branch: branch.trim() });
                setPrUrl(result.url);
                toast(`Opened pull request #${result.number}`);
              })
            }
          >
            Open pull request
          </button>
          {push.error ? <pre className="error-text small push-error">{push.error}</pre> : null}
          {pr.error ? <pre className="error-text small push-error">{pr.error}</pre> : null}
          {prUrl ? (
            <a className="small" href={prUrl} target="_blank" rel="noreferrer noopener">
              Pull request: {prUrl}
            </a>
          ) : null}
        </form>
      ) : null}
      <ConfirmDialog
        open={discarding !== null}
        title={`Discard the changes of ${discarding ?? ""}?`}
        confirmLabel="Discard"
        danger
        onClose={() => setDiscarding(null)}
        onConfirm={async () => {
          await api.discard(session.id, discarding!);
          if (open === discarding) setOpen(null);
          await refresh();
        }}
      >
        <p className="muted">Its uncommitted changes are lost; a new file is deleted.</p>
      </ConfirmDialog>
    </div>
  );
}
