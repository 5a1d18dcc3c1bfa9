/**
 * `octoctl admin budget` from source against octo's real front in process (fake runtime, real SQLite):
 * show, set field by field, "server" for one field, --clear, --json, usage errors (exit 2) and a
 * non-admin's refusal (exit 1). The gateway enforcing an override is test/server/gateway/gateway.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { quickUser } from "../../support/db.ts";
import { serveStack, sessionStack, type SessionStack, type StackServer } from "../../support/fakes.ts";
import { tempDir } from "../../support/tmp.ts";

const OCTOCTL = join(import.meta.dir, "..", "..", "..", "cli", "octoctl.ts");

let stack: SessionStack;
let server: StackServer;
let admin = "";
let user = "";
let sessionId = "";

async function octoctl(token: string, args: string[]) {
  const proc = Bun.spawn([process.execPath, OCTOCTL, ...args], {
    env: { ...process.env, OCTO_SERVER_URL: server.base, OCTO_TOKEN: token, XDG_CONFIG_HOME: tempDir("octoctl-home-") },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

beforeAll(async () => {
  stack = sessionStack({ config: { gateway: { session_budget: { tokens: 5000 }, requests_per_minute: 20 } } });
  server = await serveStack(stack);
  admin = (await quickUser(stack, "root", "admin")).token;
  const bob = await quickUser(stack, "bob");
  user = bob.token;
  sessionId = (await stack.sessions.create(bob.user, "bobs-work")).id;
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe("octoctl admin budget", () => {
  test("shows the server's limits, sets an override field by field, then clears it", async () => {
    const shown = await octoctl(admin, ["admin", "budget", "bobs-work"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`bobs-work (${sessionId})`);
    expect(shown.stdout).toMatch(/tokens\s+5000 \(server\)/);
    expect(shown.stdout).toMatch(/requests\/minute\s+20 \(server\)/);

    const set = await octoctl(admin, ["admin", "budget", sessionId.slice(0, 6), "--tokens", "300", "--cost-usd", "1.5"]);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/tokens\s+300 \(set by an admin\)/);
    expect(set.stdout).toMatch(/cost\s+\$1.5 \(set by an admin\)/);
    expect(stack.llm.sessionBudgets.get(sessionId)).toMatchObject({ tokens: 300, cost_usd: 1.5, requests_per_minute: null });

    // Only --rpm: the other fields keep their override; "server" hands one back.
    const rpm = await octoctl(admin, ["--json", "admin", "budget", "bobs-work", "--rpm", "0", "--cost-usd", "server"]);
    expect(rpm.code).toBe(0);
    expect(JSON.parse(rpm.stdout)).toMatchObject({ override: { tokens: 300, cost_usd: null, requests_per_minute: 0 }, effective: { tokens: 300, cost_usd: 0, requests_per_minute: 0 } });

    const cleared = await octoctl(admin, ["admin", "budget", "bobs-work", "--clear"]);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toMatch(/tokens\s+5000 \(server\)/);
    expect(stack.llm.sessionBudgets.get(sessionId)).toBeNull();
  }, 60_000);

  test("bad values are usage errors before any request; a non-admin is refused", async () => {
    for (const args of [["--tokens", "-3"], ["--tokens", "1.5"], ["--rpm", "lots"], ["--tokens", "5", "--clear"]]) {
      const bad = await octoctl(admin, ["admin", "budget", "bobs-work", ...args]);
      expect(bad.code).toBe(2);
      expect(bad.stderr.length).toBeGreaterThan(0);
    }
    expect(stack.llm.sessionBudgets.get(sessionId)).toBeNull();
    const refused = await octoctl(user, ["admin", "budget", "bobs-work", "--tokens", "1"]);
    expect(refused.code).toBe(1);
    expect(stack.llm.sessionBudgets.get(sessionId)).toBeNull();
    const missing = await octoctl(admin, ["admin", "budget", "no-such-session"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no session");
  }, 60_000);
});
