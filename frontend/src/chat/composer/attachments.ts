/**
 * What the composer attaches to a prompt, as OpenCode file parts (`FilePartInput`: `{ type: "file", mime,
 * filename, url }`): pasted or dropped files as `data:` URLs, and `@`-mentioned workspace files as `file://`
 * URLs of their absolute path (OpenCode reads them and gives the model their content).
 */
import type { FilePartInput } from "@opencode-ai/sdk/v2/client";
import { formatBytes } from "../../lib/format.ts";

/** Largest file that can be attached, in bytes (the whole prompt travels as one JSON body). */
export const MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024;

/** One attachment shown as a chip above the composer. */
export interface Attachment {
  /** Stable key for the chip. */
  id: string;
  kind: "mention" | "upload";
  /** Workspace-relative path (mention) or the file's name (upload). */
  name: string;
  mime: string;
  url: string;
}

let counter = 0;

/**
 * Reads `file` into an attachment. @throws Error with a message for the user when it is larger than
 * {@link MAX_ATTACHMENT_BYTES} or cannot be read.
 */
export async function readAttachment(file: File): Promise<Attachment> {
  if (file.size > MAX_ATTACHMENT_BYTES) {
    throw new Error(`${file.name} is ${formatBytes(file.size)}; attachments are limited to ${formatBytes(MAX_ATTACHMENT_BYTES)}`);
  }
  const url = await new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(new Error(`Could not read ${file.name}`));
    reader.readAsDataURL(file);
  });
  return { id: `a${++counter}`, kind: "upload", name: file.name || "pasted", mime: file.type || "application/octet-stream", url };
}

/** A mention of workspace file `path` (relative) in workspace directory `root` (absolute). */
export function mentionAttachment(path: string, root: string): Attachment {
  const absolute = `${root.replace(/\/$/, "")}/${path}`;
  const url = `file://${absolute.split("/").map(encodeURIComponent).join("/")}`;
  return { id: `m${++counter}`, kind: "mention", name: path, mime: "text/plain", url };
}

/** The file part OpenCode takes for an attachment. */
export function toFilePart(a: Attachment): FilePartInput {
  return { type: "file", mime: a.mime, filename: a.name, url: a.url };
}
