/**
 * End to end, local mode: `octo serve` runs as its own process on a free port with a temporary data dir and
 * is driven only over HTTP and WebSocket, as a user would. Sessions run real OpenCode, driven by the scripted
 * LLM stand-in (test/support/llm.ts), plus octo's own file server and terminal.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { opencodeConfig, type ScriptedLlm, startScriptedLlm, writeFileScenario } from "../support/llm.ts";
import { createOpencodeSession, openEventStream, sendPrompt, waitForIdle } from "../support/opencode.ts";
import { Api, commandLine, eventually, type OctoServerProcess, processesIn, runOcto, scriptedLlmEnv, startOcto } from "../support/octo.ts";
import { command, requires } from "../support/requires.ts";
import { type LongLived, openStream, openWebSocket } from "../support/long-lived.ts";
import { terminalEcho, upgradeStatus } from "../support/terminal.ts";

const SLOW = 120_000;
// Local mode sandboxes sessions with bubblewrap when it is installed ([runtime] sandbox = "auto").
const haveBwrap = await requires(command("bwrap", "bubblewrap"), "the local-mode sandbox end to end");

let llm: ScriptedLlm;
let octo: OctoServerProcess;
let api: Api;
let env: Record<string, string>;
const state = {
  admin: "",
  user: "",
  sessionId: "",
};

/** The session's workspace. */
function sessionDir(id: string) {
  return join(octo.dataDir, "sessions", id, "workspace");
}

/** The session's directory: its processes all work in it or below it. */
function sessionRoot(id: string) {
  return join(octo.dataDir, "sessions", id);
}

beforeAll(async () => {
  llm = await startScriptedLlm();
  env = scriptedLlmEnv(opencodeConfig(llm));
  octo = await startOcto({ env });
  api = new Api(octo.url);
}, SLOW);

afterAll(async () => {
  await octo?.stop();
  await llm?.stop();
});

describe("octo serve, local mode, end to end", () => {
  test("first start prints an admin invite; the CLI makes more while the server runs", async () => {
    expect(octo.firstInvite).toMatch(/^OCTO-/);
    const cli = runOcto(["invite-codes", "generate", "--role", "admin", "--data-dir", octo.dataDir]);
    expect(cli.stderr).toBe("");
    expect(cli.code).toBe(0);
    const code = cli.stdout.trim();
    expect(code).toMatch(/^OCTO-[A-Z0-9]{4}(-[A-Z0-9]{4}){5}$/);

    const res = await api.post("/api/auth/register", { username: "alice", password: "correct horse", invite_code: code });
    expect(res.status).toBe(201);
    expect(res.json.user).toMatchObject({ username: "alice", role: "admin", disabled: false });
    expect(res.headers.get("set-cookie")).toMatch(/^octo_token=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=86400/);
    state.admin = res.json.token;

    const reused = await api.post("/api/auth/register", { username: "mallory", password: "whatever123", invite_code: code });
    expect(reused.status).toBe(400);
    expect(reused.json.code).toBe("INVALID_INVITE");
  });

  test("the admin invites a second user, who registers and logs in", async () => {
    const admin = api.as(state.admin);
    const created = await admin.post("/api/admin/invite-codes", { note: "for bob", max_uses: 1 });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ role: "user", max_uses: 1, uses: 0, note: "for bob", status: "active" });
    const reg = await api.post("/api/auth/register", { username: "bob", password: "bob-password", invite_code: created.json.code });
    expect(reg.status).toBe(201);
    expect(reg.json.user.role).toBe("user");

    const listed = await admin.get("/api/admin/invite-codes");
    expect(listed.json.find((i: { id: string }) => i.id === created.json.id)).toMatchObject({ uses: 1, status: "used_up" });
    expect(JSON.stringify(listed.json)).not.toContain(created.json.code);

    const login = await api.post("/api/auth/login", { username: "bob", password: "bob-password" });
    expect(login.status).toBe(200);
    state.user = login.json.token;
    const me = await api.as(state.user).get("/api/me");
    expect(me.json).toMatchObject({ username: "bob", role: "user" });
    expect((await api.as(state.user).get("/api/admin/users")).status).toBe(403);
  });

  test("creating a session starts OpenCode, the file server and the terminal", async () => {
    const res = await api.as(state.admin).post("/api/sessions", { name: "demo" });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      name: "demo",
      status: "running",
      runtime: "local",
      owner: { username: "alice" },
      urls: { code: `/session/${res.json.id}/code`, files: `/session/${res.json.id}/files`, term: `/session/${res.json.id}/term` },
    });
    state.sessionId = res.json.id;
    expect(processesIn(sessionRoot(state.sessionId)).length).toBeGreaterThanOrEqual(3);
    const list = await api.as(state.admin).get("/api/sessions");
    expect(list.json.map((s: { id: string }) => s.id)).toEqual([state.sessionId]);
  }, SLOW);

  test("a prompt through /session/:id/code streams deltas over SSE and the agent's file is readable through /files", async () => {
    const base = `${octo.url}/session/${state.sessionId}/code`;
    const headers = { authorization: `Bearer ${state.admin}` };
    const events = await openEventStream(base, headers);
    try {
      const ocSession = await createOpencodeSession(base, headers);
      llm.script(writeFileScenario("notes/hello.txt", "hello from the agent\n", "I wrote the file for you."), { sessionId: ocSession.id });
      await sendPrompt(base, headers, ocSession.id, "Please write notes/hello.txt");
      await waitForIdle(events, ocSession.id, 60_000);
      await events.waitFor((e) => e.type === "session.idle" && (e.properties as { sessionID: string }).sessionID === ocSession.id, 10_000);
      const deltas = events.events.filter((e) => e.type === "message.part.delta");
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.map((e) => (e.properties as { delta: string }).delta).join("")).toContain("I wrote the file for you.");
      // OpenCode really called the LLM stand-in through the session's own config
      expect(llm.requests.some((r) => r.sessionId === ocSession.id && r.kind === "agent")).toBe(true);
    } finally {
      events.close();
    }
    const file = await fetch(`${octo.url}/session/${state.sessionId}/files/file?path=notes/hello.txt`, {
      headers: { cookie: `octo_token=${state.admin}` },
    });
    expect(file.status).toBe(200);
    expect(await file.text()).toBe("hello from the agent\n");
  }, SLOW);

  test("the terminal runs commands in the workspace through /session/:id/term", async () => {
    const output = await terminalEcho(`${octo.url}/session/${state.sessionId}/term`, state.admin, "echo octo-$((6*7)) && pwd");
    expect(output).toContain("octo-42");
    expect(output).toContain(sessionDir(state.sessionId));
  }, SLOW);

  test.if(haveBwrap)("the sandbox hides octo's secrets and other sessions from the session's shell", async () => {
    const other = await api.as(state.user).post("/api/sessions", { name: "bob's" });
    expect([other.status, other.json.error ?? null]).toEqual([201, null]);
    const listing = await terminalEcho(
      `${octo.url}/session/${state.sessionId}/term`,
      state.admin,
      `ls ${octo.dataDir} ${octo.dataDir}/sessions; cat ${octo.dataDir}/jwt-secret; env | grep -c OCTO_SERVICE_TOKEN`,
    );
    expect(listing).toContain("No such file or directory");
    expect(listing).not.toContain(other.json.id);
    expect(listing).not.toContain("octo.db");
    expect(listing).toMatch(/\n0\r?\n/);
    expect((await api.as(state.user).delete(`/api/sessions/${other.json.id}?purge=true`)).status).toBe(204);
  }, SLOW);

  test("another user gets 404 on every route of the session, exactly like a missing one", async () => {
    const bob = api.as(state.user);
    const id = state.sessionId;
    const missing = await bob.get("/api/sessions/zzzzzzzzzzzz");
    for (const res of [
      await bob.get(`/api/sessions/${id}`),
      await bob.post(`/api/sessions/${id}/stop`),
      await bob.post(`/api/sessions/${id}/start`),
      await bob.delete(`/api/sessions/${id}`),
      await bob.get(`/session/${id}/code/session`),
      await bob.get(`/session/${id}/code/event`),
      await bob.get(`/session/${id}/files/tree`),
      await bob.get(`/session/${id}/files/file?path=notes/hello.txt`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.json).toEqual(missing.json);
    }
    const ws = await upgradeStatus(`${octo.url}/session/${id}/term?token=${state.user}`);
    expect(ws.status).toBe(404);
    expect(JSON.parse(ws.body)).toEqual(missing.json);
    expect((await bob.get("/api/sessions")).json).toEqual([]);
    expect((await api.as(state.admin).get(`/api/sessions/${id}`)).json.status).toBe("running");
  });

  test("stop leaves no process behind; start brings the workspace back", async () => {
    const admin = api.as(state.admin);
    // A workspace .env must not reach octo's own services (Bun loads .env from its working directory).
    const env = await admin.request("PUT", `/session/${state.sessionId}/files/file?path=.env`, "OCTO_LEAK_TEST=yes\n", { "content-type": "text/plain" });
    expect(env.status).toBe(201);
    const stopped = await admin.post(`/api/sessions/${state.sessionId}/stop`);
    expect(stopped.json.status).toBe("stopped");
    expect(processesIn(sessionRoot(state.sessionId))).toEqual([]);
    const proxied = await admin.get(`/session/${state.sessionId}/files/tree`);
    expect(proxied.status).toBe(503);
    expect(proxied.json.code).toBe("SESSION_STOPPED");

    const started = await admin.post(`/api/sessions/${state.sessionId}/start`);
    expect([started.json.status, started.json.error ?? null]).toEqual(["running", null]);
    const file = await admin.get(`/session/${state.sessionId}/files/file?path=notes/hello.txt`);
    expect(file.text).toBe("hello from the agent\n");
    const shell = await terminalEcho(`${octo.url}/session/${state.sessionId}/term`, state.admin, "echo leak=[$OCTO_LEAK_TEST]");
    expect(shell).toContain("leak=[]");
  }, SLOW);

  test("a session whose OpenCode dies is noticed and shown as failed", async () => {
    const admin = api.as(state.admin);
    const created = await admin.post("/api/sessions", { name: "doomed" });
    expect(created.json.status).toBe("running");
    const workspace = sessionRoot(created.json.id);
    const pids = processesIn(workspace);
    const opencode = pids.find((pid) => commandLine(pid)[0]?.endsWith("/opencode") && commandLine(pid)[1] === "serve");
    expect(opencode).toBeDefined();
    process.kill(opencode!, "SIGKILL");
    const failed = await eventually(async () => {
      const s = (await admin.get(`/api/sessions/${created.json.id}`)).json;
      return s.status === "failed" ? s : null;
    }, "session marked failed", 15_000);
    // Killed directly, or (sandboxed) its bwrap parent reports the child's death as exit code 128+9.
    expect(failed.error).toMatch(/^opencode (was killed by SIGKILL|exited with code 137)/);
    const proxied = await admin.get(`/session/${created.json.id}/code/session`);
    expect(proxied.status).toBe(503);
    await eventually(() => processesIn(workspace).length === 0, "the rest of the session stopped", 10_000);
    expect((await admin.delete(`/api/sessions/${created.json.id}?purge=true`)).status).toBe(204);
    expect(existsSync(join(octo.dataDir, "sessions", created.json.id))).toBe(false);
  }, SLOW);

  test("a crash of the server (kill -9) takes its sessions with it; a restart marks them stopped and start brings the files back", async () => {
    const id = state.sessionId;
    expect(processesIn(sessionRoot(id)).length).toBeGreaterThanOrEqual(3);
    await octo.stop("SIGKILL");
    // Nothing of the session outlives octo: no agent keeps running unsupervised (the supervisor escalates to
    // SIGKILL after the stop grace period, 10 s by default; under load its services take a while to exit).
    await eventually(() => processesIn(sessionRoot(id)).length === 0, "the session to die with octo", 30_000);
    octo = await startOcto({ dataDir: octo.dataDir, env });
    api = new Api(octo.url);
    const admin = api.as(state.admin);
    expect((await admin.get(`/api/sessions/${id}`)).json).toMatchObject({ status: "stopped", error: null });
    const started = await admin.post(`/api/sessions/${id}/start`);
    expect([started.json.status, started.json.error ?? null]).toEqual(["running", null]);
    expect((await admin.get(`/session/${id}/files/file?path=notes/hello.txt`)).text).toBe("hello from the agent\n");

    expect(await octo.stop("SIGTERM")).toBe(0);
    expect(processesIn(sessionRoot(id))).toEqual([]);
    octo = await startOcto({ dataDir: octo.dataDir, env });
    api = new Api(octo.url);
    const after = (await api.as(state.admin).get(`/api/sessions/${id}`)).json;
    expect(after.status).toBe("stopped");
    expect(octo.firstInvite).toBeNull();
  }, SLOW);

  test("revocation closes what is open: a real terminal and OpenCode's event stream close on logout, on the CLI's reset-password and when an admin disables the account (which stops the user's sessions)", async () => {
    const admin = api.as(state.admin);
    expect((await admin.post(`/api/sessions/${state.sessionId}/start`)).json.status).toBe("running");
    const wsBase = `${octo.url.replace("http:", "ws:")}/session`;
    const open = async (id: string, token: string) => [
      await openWebSocket(`${wsBase}/${id}/term?token=${token}`, { origin: octo.url }),
      await openStream(`${octo.url}/session/${id}/code/event`, { authorization: `Bearer ${token}`, accept: "text/event-stream" }),
    ];
    const ended = (connections: LongLived[]) =>
      eventually(() => connections.every((c) => !c.open), "the terminal and the event stream to close", 10_000);

    // Logout: alice's second login keeps working, the logged-out one's connections close.
    const login = await api.post("/api/auth/login", { username: "alice", password: "correct horse" });
    const first = await open(state.sessionId, login.json.token);
    expect((await api.as(login.json.token).post("/api/auth/logout")).status).toBe(200);
    await ended(first);
    expect((await upgradeStatus(`${octo.url}/session/${state.sessionId}/term?token=${login.json.token}`, { origin: octo.url })).status).toBe(401);
    expect(await terminalEcho(`${octo.url}/session/${state.sessionId}/term`, state.admin, "echo still-$((40+2))")).toContain("still-42");

    // The CLI resets bob's password while the server runs: his open connections close.
    const bob = (await api.post("/api/auth/login", { username: "bob", password: "bob-password" })).json.token;
    const session = (await api.as(bob).post("/api/sessions", { name: "bob's" })).json;
    expect(session.status).toBe("running");
    const second = await open(session.id, bob);
    const cli = runOcto(["users", "reset-password", "bob", "--data-dir", octo.dataDir], {}, "bob-new-password\n");
    expect(cli.code).toBe(0);
    await ended(second);
    expect((await api.as(bob).get(`/session/${session.id}/files/tree`)).status).toBe(401);

    // An admin disables bob: his connections close and his session stops; the workspace stays.
    const again = (await api.post("/api/auth/login", { username: "bob", password: "bob-new-password" })).json.token;
    const third = await open(session.id, again);
    const users = (await admin.get("/api/admin/users")).json as { id: string; username: string }[];
    const bobId = users.find((u) => u.username === "bob")!.id;
    expect((await admin.patch(`/api/admin/users/${bobId}`, { disabled: true })).status).toBe(200);
    await ended(third);
    await eventually(async () => (await admin.get("/api/admin/sessions")).json.find((s: { id: string }) => s.id === session.id)?.status === "stopped", "bob's session to stop", 30_000);
    await eventually(() => processesIn(sessionRoot(session.id)).length === 0, "bob's processes to end", 15_000);
    expect(existsSync(sessionDir(session.id))).toBe(true);
    // Re-enabled, bob logs in again and finds his stopped session with its workspace.
    expect((await admin.patch(`/api/admin/users/${bobId}`, { disabled: false })).status).toBe(200);
    const back = (await api.post("/api/auth/login", { username: "bob", password: "bob-new-password" })).json.token;
    expect((await api.as(back).get(`/api/sessions/${session.id}`)).json.status).toBe("stopped");
    expect((await api.as(back).delete(`/api/sessions/${session.id}?purge=true`)).status).toBe(204);
  }, SLOW);

  test("logout revokes the token on the server, not only the cookie", async () => {
    const login = await api.post("/api/auth/login", { username: "bob", password: "bob-new-password" });
    const token = login.json.token;
    const logout = await api.as(token).post("/api/auth/logout");
    expect(logout.status).toBe(200);
    expect(logout.headers.get("set-cookie")).toContain("Max-Age=0");
    const me = await api.as(token).get("/api/me");
    expect(me.status).toBe(401);
    expect(me.json.code).toBe("INVALID_TOKEN");
  });
});
