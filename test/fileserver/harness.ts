/**
 * Test harness for the file server: a real server on port 0 over a fresh temp workspace, and a `call`
 * helper that sends authenticated requests (Bearer token) unless told otherwise.
 */
import { realpathSync } from "node:fs";
import { type RunningFileServer, startFileServer } from "../../fileserver/server.ts";
import { tempDir } from "../support/tmp.ts";

export const TOKEN = "test-token-0123456789";

export interface TestServer {
  /** Real path of the workspace root. */
  root: string;
  server: RunningFileServer;
  /** `fetch(server.url + path)` with `Authorization: Bearer TOKEN` unless `init.headers` sets its own. */
  call(path: string, init?: RequestInit): Promise<Response>;
}

/** Starts a file server over a new temp directory (token {@link TOKEN}). Stop it with `server.stop()`. */
export async function startTestServer(options: { maxUploadBytes?: number } = {}): Promise<TestServer> {
  const root = realpathSync(tempDir("fileserver-"));
  const server = await startFileServer({ root, port: 0, token: TOKEN, ...options });
  const call = (path: string, init: RequestInit = {}) =>
    fetch(server.url + path, {
      ...init,
      headers: { Authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string> | undefined) },
    });
  return { root, server, call };
}

/** `encodeURIComponent` shorthand for query strings. */
export const q = (value: string) => encodeURIComponent(value);
