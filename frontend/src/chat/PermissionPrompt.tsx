/**
 * A pending permission request (`permission.asked`) with its three answers, sent as
 * `POST /permission/:id/reply { reply: "once" | "always" | "reject" }`. Edit requests carry the proposed
 * change in `metadata.diff`, shown so the user approves what they saw.
 */
import { useState } from "react";
import { Icon } from "../ui/Icon.tsx";
import { toastError } from "../ui/toast.ts";
import { useChatStore } from "./ChatContext.tsx";
import { DiffView } from "./DiffView.tsx";
import { rowsFromPatch } from "./diffRows.ts";
import { relativePath } from "./tools/toolInfo.ts";
import type { PermissionRequest } from "./types.ts";

type Reply = "once" | "always" | "reject";

const VERBS: Record<string, string> = {
  edit: "edit",
  write: "write",
  bash: "run",
  webfetch: "fetch",
  external_directory: "access outside the workspace",
  read: "read",
};

/** What the request is about: a file path relative to the workspace when it names one, else its patterns. */
function subjectOf(request: PermissionRequest, root?: string): string {
  const filepath = request.metadata.filepath;
  if (typeof filepath === "string" && filepath) return relativePath(filepath, root);
  return request.patterns.join(", ") || request.permission;
}

/** The prompt for one permission request; `root` (the workspace directory) shortens paths. */
export function PermissionPrompt({ request, root }: { request: PermissionRequest; root?: string }) {
  const { client } = useChatStore();
  const [busy, setBusy] = useState<Reply | null>(null);
  const verb = VERBS[request.permission] ?? `use ${request.permission} on`;
  const patch = typeof request.metadata.diff === "string" ? request.metadata.diff : null;

  const reply = async (answer: Reply) => {
    setBusy(answer);
    try {
      await client.permission.reply({ requestID: request.id, reply: answer });
    } catch (err) {
      toastError("Could not answer the permission request", err);
      setBusy(null);
    }
  };

  return (
    <div className="permission" role="alertdialog" aria-label="Permission request">
      <div className="permission-head">
        <Icon name="lock" size={15} />
        <span>
          The agent wants to <strong>{verb}</strong>{" "}
          <code className="permission-subject">{subjectOf(request, root)}</code>
        </span>
      </div>
      {patch ? <DiffView rows={rowsFromPatch(patch)} maxLines={60} /> : null}
      <div className="permission-actions">
        <button type="button" className="btn btn-sm btn-primary" disabled={busy !== null} onClick={() => reply("once")}>
          {busy === "once" ? <span className="spinner" /> : null} Allow once
        </button>
        <button
          type="button"
          className="btn btn-sm"
          disabled={busy !== null}
          title={request.always.length ? `Allow ${request.always.join(", ")} from now on` : undefined}
          onClick={() => reply("always")}
        >
          {busy === "always" ? <span className="spinner" /> : null} Always allow
        </button>
        <button type="button" className="btn btn-sm btn-danger" disabled={busy !== null} onClick={() => reply("reject")}>
          {busy === "reject" ? <span className="spinner" /> : null} Reject
        </button>
      </div>
    </div>
  );
}
