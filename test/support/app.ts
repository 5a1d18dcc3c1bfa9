/**
 * The real Elysia app (`createApp`) over real services, a temporary database and a fake session runtime,
 * driven with `app.handle(new Request(...))` as server.ts does for every non-proxied request. For HTTP
 * tests of the API (test/server/app.test.ts, test/server/modules/audit/index.test.ts).
 *
 * Every answer is also checked against the app's own OpenAPI document (test/support/contract.ts): a call
 * whose status the route does not declare, or whose body does not match the route's response schema,
 * throws a `ContractViolation` and fails the test. `call(..., { contract: false })` skips that, for a test
 * that checks the check.
 *
 * Call {@link closeHarnesses} in `afterAll`: it stops every session and fake runtime the harnesses made.
 */
import type { AnyElysia, Elysia } from "elysia";
import { createApp } from "../../server/app.ts";
import { setClientAddress } from "../../server/http/client-address.ts";
import { checkAnswer, documentOf } from "./contract.ts";
import { quickUser } from "./db.ts";
import { FakeRuntime, type SessionStack, sessionStack } from "./fakes.ts";

/** The Host every request names; same-origin requests send `Origin: ${ORIGIN}`. */
export const HOST = "octo.test:8080";
export const ORIGIN = `http://${HOST}`;

const stacks: SessionStack[] = [];

/** Stops the sessions and runtimes of every harness made so far. */
export async function closeHarnesses(): Promise<void> {
  for (const s of stacks.splice(0)) {
    s.handoff.tasks.shutdown();
    await s.sessions.shutdown();
    await s.runtime.dispose();
  }
}

/** One request's credentials, body and headers. */
export interface Call {
  token?: string;
  cookie?: string;
  body?: unknown;
  /** A raw body (sent as application/json), for malformed JSON. */
  raw?: string;
  origin?: string;
  headers?: Record<string, string>;
  /** The client's socket address, as server.ts records it for each request. */
  client?: string;
  /** Check the answer against the OpenAPI document (default true). */
  contract?: boolean;
}

/**
 * An app over a fresh stack; `config` sections override the defaults (`login_max_attempts` is 3 here);
 * `web` is mounted last, where the real app mounts the web app.
 * @returns the stack, the app and `call(method, path, c)` -> `{ status, headers, json, text }`.
 */
export function harness(config: Record<string, Record<string, unknown>> = {}, runtime?: FakeRuntime, web?: AnyElysia) {
  const stack = sessionStack({ config: { auth: { login_max_attempts: 3 }, ...config }, runtime });
  stacks.push(stack);
  const app = createApp({ ...stack, engine: { name: "fake", version: "9.9" }, web: web as Elysia | undefined });
  async function call(method: string, path: string, c: Call = {}) {
    const headers: Record<string, string> = { host: HOST, ...c.headers };
    if (c.token) headers.authorization = `Bearer ${c.token}`;
    if (c.cookie) headers.cookie = c.cookie;
    if (c.origin) headers.origin = c.origin;
    let body: string | undefined;
    if (c.raw !== undefined || c.body !== undefined) {
      headers["content-type"] = "application/json";
      body = c.raw ?? JSON.stringify(c.body);
    }
    const request = new Request(`http://${HOST}${path}`, { method, headers, body });
    setClientAddress(request, c.client);
    const res = await app.handle(request);
    const text = await res.text();
    if (c.contract !== false) {
      checkAnswer(documentOf(app), { method, path, status: res.status, contentType: res.headers.get("content-type"), text });
    }
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, headers: res.headers, json, text };
  }
  return { ...stack, app, call };
}

/** A harness with an admin "root" and a user "bob" (made directly, not through registration). */
export async function withAdmin(config: Record<string, Record<string, unknown>> = {}) {
  const h = harness(config);
  const admin = await quickUser(h, "root", "admin");
  const user = await quickUser(h, "bob", "user");
  return { ...h, admin, user };
}
