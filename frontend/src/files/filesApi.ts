/**
 * Client for a session's file server, proxied by octo at `/session/:id/files` (fileserver/server.ts).
 * Paths are workspace-relative (`""` = the root, no leading slash). Download links are plain URLs: the
 * browser sends the HttpOnly cookie with them itself.
 */
import type { TreeEntry } from "../../../fileserver/tree.ts";
import { HttpError, request, requestJson } from "../lib/http.ts";

/** One entry of `GET /tree` (the file server's own type; type-only, nothing is bundled). */
export type { TreeEntry };

const q = (params: Record<string, string | number>) => new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();

/** The file server's path below octo for session `sessionId` (the proxy strips it). */
export function filesBase(sessionId: string): string {
  return `/session/${encodeURIComponent(sessionId)}/files`;
}

/** Whether two byte arrays hold the same bytes. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** File-server calls for one octo session. */
export function filesApi(sessionId: string) {
  const base = filesBase(sessionId);
  return {
    /** Entries of directory `path`, `depth` levels deep (1 = no children). */
    tree: (path: string, depth = 1, signal?: AbortSignal) => requestJson<TreeEntry[]>(`${base}/tree?${q({ path, depth })}`, { signal }),
    /** URL of a file's bytes (for `<img>` and fetch). */
    fileUrl: (path: string) => `${base}/file?${q({ path })}`,
    /** URL that downloads a file, or a directory as a zip. */
    downloadUrl: (path: string) => `${base}/download?${q({ path })}`,
    /** A file's content as a Response (size and type in its headers). */
    read: (path: string, signal?: AbortSignal) => request(`${base}/file?${q({ path })}`, { signal }),
    /** Writes a file atomically (creates parents). */
    write: (path: string, content: BodyInit) => requestJson<TreeEntry>(`${base}/file?${q({ path })}`, { method: "PUT", body: content }),
    /**
     * Atomically replaces the file, only if it is still version `etag` (from `read`'s `ETag`; null: any).
     *
     * A PUT that got no answer is sent once more (`fetchRetryingLost`, RFC 9110 §9.2.2: PUT is idempotent).
     * When the first one landed but its answer was lost, the repeat's `If-Match` no longer matches (the
     * save itself changed the file) and it answers 412 (RFC 9110 §13.1.1) — a conflict with our own write.
     * The file server's ETag comes from inode, size and mtime (fileserver/http.ts `entityTag`), not from the
     * content, so on a 412 the file is read once: if it holds exactly `content`, the save counts as done
     * (nothing of the user's would be lost either way). Keeping the repeat and checking here is smaller
     * than not repeating conditional requests, which would still leave the editor to find out by reading.
     * @returns the new ETag. @throws HttpError 412 `MODIFIED` when the file changed underneath to something else.
     */
    save: async (path: string, content: string, etag: string | null) => {
      const url = `${base}/file?${q({ path })}`;
      try {
        const response = await request(url, { method: "PUT", body: content, headers: etag ? { "if-match": etag } : {} });
        await response.body?.cancel();
        return response.headers.get("etag");
      } catch (err) {
        if (!(etag && err instanceof HttpError && err.status === 412)) throw err;
        const current = await request(url);
        if (!sameBytes(new Uint8Array(await current.arrayBuffer()), new TextEncoder().encode(content))) throw err;
        return current.headers.get("etag");
      }
    },
    /** Uploads files into directory `dir` (multipart; all or nothing). */
    upload: (dir: string, files: File[]) => {
      const form = new FormData();
      for (const f of files) form.append("file", f, f.name);
      return requestJson<TreeEntry[]>(`${base}/file?${q({ path: dir })}`, { method: "POST", body: form });
    },
    /** Deletes a file or a directory recursively. */
    remove: (path: string) => requestJson<{ path: string }>(`${base}/file?${q({ path })}`, { method: "DELETE" }),
    mkdir: (path: string) => requestJson<TreeEntry>(`${base}/mkdir?${q({ path })}`, { method: "PUT" }),
    rename: (oldPath: string, newPath: string) =>
      requestJson<TreeEntry>(`${base}/rename?${q({ old_path: oldPath, new_path: newPath })}`, { method: "POST" }),
  };
}

/** The API object returned by {@link filesApi}. */
export type FilesApi = ReturnType<typeof filesApi>;

/** Parent directory of a workspace path (`"a/b.txt"` -> `"a"`, `"b.txt"` -> `""`). */
export function parentDir(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** Joins a directory and a name (`("", "x")` -> `"x"`). */
export function joinPath(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}
