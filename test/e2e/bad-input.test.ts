/**
 * End to end, bad inputs: a real `octo serve` process refuses what it must refuse, with `{ error, code }`
 * answers, and loses nothing (no extra users, no half-consumed invites).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { opencodeConfig, type ScriptedLlm, startScriptedLlm } from "../support/llm.ts";
import { Api, commandLine, eventually, type OctoServerProcess, processesIn, runOcto, startOcto } from "../support/octo.ts";
import { upgradeStatus } from "../support/terminal.ts";
import { tempDir } from "../support/tmp.ts";

const SLOW = 120_000;
let llm: ScriptedLlm;
let octo: OctoServerProcess;
let api: Api;
let admin: Api;
let sessionId = "";

function invite(args: string[] = []): string {
  const out = runOcto(["invite-codes", "generate", "--data-dir", octo.dataDir, ...args]);
  if (out.code !== 0) throw new Error(out.stderr);
  return out.stdout.trim();
}

beforeAll(async () => {
  llm = await startScriptedLlm();
  const configFile = join(tempDir("oc-config-"), "opencode.json");
  writeFileSync(configFile, JSON.stringify(opencodeConfig(llm)));
  // Polling is slow here on purpose, so a dead upstream is met by the proxy before the poller notices it.
  octo = await startOcto({ env: { OCTO_OPENCODE__CONFIG_PATH: configFile, OCTO_RUNTIME__POLL_INTERVAL_SECONDS: "600" } });
  api = new Api(octo.url);
  const reg = await api.post("/api/auth/register", { username: "root", password: "root-password", invite_code: octo.firstInvite });
  admin = api.as(reg.json.token);
}, SLOW);

afterAll(async () => {
  await octo?.stop();
  await llm?.stop();
});

describe("auth refuses bad input", () => {
  test("wrong password and unknown user give the same 401", async () => {
    const wrong = await api.post("/api/auth/login", { username: "root", password: "nope-nope" });
    const unknown = await api.post("/api/auth/login", { username: "ghost", password: "nope-nope" });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.json).toEqual({ error: "Wrong username or password", code: "INVALID_CREDENTIALS" });
    expect(unknown.json).toEqual(wrong.json);
  });

  test("malformed JSON, missing fields and rule violations are 400s naming the problem", async () => {
    const malformed = await api.request("POST", "/api/auth/login", "{not json", { "content-type": "application/json" });
    expect(malformed.status).toBe(400);
    expect(malformed.json.code).toBe("INVALID_JSON");
    const missing = await api.post("/api/auth/register", { username: "carol" });
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(missing.json.error).toContain("password");
    const short = await api.post("/api/auth/register", { username: "carol", password: "short", invite_code: "x" });
    expect(short.json.error).toBe("password must be at least 8 characters");
    const badName = await api.post("/api/auth/register", { username: "Carol!", password: "long-enough", invite_code: "x" });
    expect(badName.json.error).toContain("username");
  });

  test("a used, expired, revoked or unknown invite is refused and creates nobody", async () => {
    const usersBefore = (await admin.get("/api/admin/users")).json.length;
    const used = invite();
    expect((await api.post("/api/auth/register", { username: "dave", password: "dave-password", invite_code: used })).status).toBe(201);
    const expired = (await admin.post("/api/admin/invite-codes", { expires_in_seconds: 1 })).json;
    const revoked = (await admin.post("/api/admin/invite-codes", {})).json;
    expect((await admin.delete(`/api/admin/invite-codes/${revoked.id}`)).json.status).toBe("revoked");
    await Bun.sleep(1100);
    for (const code of [used, expired.code, revoked.code, "OCTO-AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"]) {
      const res = await api.post("/api/auth/register", { username: "eve", password: "eve-password", invite_code: code });
      expect(res.status).toBe(400);
      expect(res.json.code).toBe("INVALID_INVITE");
    }
    expect((await admin.get("/api/admin/users")).json.length).toBe(usersBefore + 1);
  });

  test("parallel registrations with a three-use code give exactly three users", async () => {
    // One octo serve answers all of them: its registrations are serialised by one immediate transaction
    // each (cross-process atomicity is tested in test/server/modules/invites/service.test.ts).
    const code = invite(["--uses", "3"]);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => api.post("/api/auth/register", { username: `racer${i}`, password: "racer-password", invite_code: code })),
    );
    expect(results.filter((r) => r.status === 201).length).toBe(3);
    expect(results.filter((r) => r.status === 400 && r.json.code === "INVALID_INVITE").length).toBe(9);
    const users = (await admin.get("/api/admin/users")).json as { username: string }[];
    expect(users.filter((u) => u.username.startsWith("racer")).length).toBe(3);
    const codes = (await admin.get("/api/admin/invite-codes")).json as { uses: number; max_uses: number; status: string }[];
    expect(codes.filter((c) => c.max_uses === 3)).toEqual([expect.objectContaining({ uses: 3, status: "used_up" })]);
  });

  test("the CLI refuses bad flags with exit code 2 and a message naming the flag", () => {
    const role = runOcto(["invite-codes", "generate", "--data-dir", octo.dataDir, "--role", "boss"]);
    expect(role.code).toBe(2);
    expect(role.stderr).toContain("--role must be user or admin");
    const expires = runOcto(["invite-codes", "generate", "--data-dir", octo.dataDir, "--expires", "soon"]);
    expect(expires.code).toBe(2);
    expect(expires.stderr).toContain("--expires");
    const unknown = runOcto(["invite-codes", "generate", "--bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--bogus'");
  });

  test("a bad config value stops octo serve before it starts, naming key, value and source", () => {
    const out = runOcto(["serve", "--data-dir", tempDir()], { OCTO_SERVER__PORT: "eighty" });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('server.port = "eighty" (from environment variable OCTO_SERVER__PORT)');
  });

  test("missing or bad credentials are 401 on the API, the proxy and upgrades", async () => {
    expect((await api.get("/api/me")).status).toBe(401);
    expect((await api.get("/api/sessions")).json.code).toBe("UNAUTHORIZED");
    expect((await api.as("not-a-jwt").get("/api/me")).json.code).toBe("INVALID_TOKEN");
    expect((await api.get("/session/abcdef/code/session")).status).toBe(401);
    expect((await upgradeStatus(`${octo.url}/session/abcdef/term`)).status).toBe(401);
    expect((await upgradeStatus(`${octo.url}/session/abcdef/term?token=garbage`)).status).toBe(401);
  });
});

describe("the proxy refuses what it must", () => {
  test("a session is created for the remaining proxy checks", async () => {
    const res = await admin.post("/api/sessions", { name: "target" });
    expect(res.status).toBe(201);
    sessionId = res.json.id;
  }, SLOW);

  test("path traversal through /files is 403 PATH_TRAVERSAL", async () => {
    for (const path of ["../../../etc/passwd", "/etc/passwd", "..%2F..%2Fetc%2Fpasswd", "a/../../x"]) {
      const res = await admin.get(`/session/${sessionId}/files/file?path=${path}`);
      expect(res.status).toBe(403);
      expect(res.json.code).toBe("PATH_TRAVERSAL");
    }
    const write = await admin.request("PUT", `/session/${sessionId}/files/file?path=../escape.txt`, "x", { "content-type": "text/plain" });
    expect(write.status).toBe(403);
  });

  test("cross-origin WebSocket upgrades and cross-origin cookie POSTs are refused", async () => {
    const token = admin.auth.token!;
    const foreign = await upgradeStatus(`${octo.url}/session/${sessionId}/term?token=${token}`, { origin: "http://evil.example" });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).code).toBe("CROSS_ORIGIN");
    const same = await upgradeStatus(`${octo.url}/session/${sessionId}/term?token=${token}`, { origin: octo.url });
    expect(same.status).toBe(101);
    const post = await fetch(`${octo.url}/session/${sessionId}/code/session`, {
      method: "POST",
      headers: { cookie: `octo_token=${token}`, origin: "http://evil.example", "content-type": "application/json" },
      body: "{}",
    });
    expect(post.status).toBe(403);
  });

  test("an upgrade to an upstream that is not a WebSocket endpoint gets that upstream's plain answer", async () => {
    // The file server has no WebSocket: it answers the request as plain HTTP (the workspace's tree: only the
    // .git of the repository every new workspace is made),
    // which reaches the client instead of a 101 or a connection left hanging (upgradeStatus gives up after
    // 10 s, which fails this test).
    const res = await upgradeStatus(`${octo.url}/session/${sessionId}/files/tree?token=${admin.auth.token}`, { origin: octo.url });
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { name: string }[]).map((e) => e.name)).toEqual([".git"]);
  });

  test("a session id that does not exist is 404 on the API and the proxy", async () => {
    expect((await admin.get("/api/sessions/doesnotexist")).json.code).toBe("SESSION_NOT_FOUND");
    expect((await admin.get("/session/doesnotexist/code/session")).status).toBe(404);
    expect((await admin.get(`/session/${sessionId}/nothing`)).status).toBe(404);
  });

  test("a dead upstream answers 502 JSON before the poller notices it", async () => {
    const workspace = join(octo.dataDir, "sessions", sessionId);
    const fileserver = processesIn(workspace).find((pid) => commandLine(pid).includes("fileserver") && commandLine(pid).includes("--root"));
    expect(fileserver).toBeDefined();
    process.kill(fileserver!, "SIGKILL");
    await eventually(() => !processesIn(workspace).includes(fileserver!), "the file server to be gone", 10_000);
    const res = await admin.get(`/session/${sessionId}/files/tree`);
    expect(res.status).toBe(502);
    expect(res.json).toEqual({ error: "The session's service is not answering", code: "UPSTREAM_UNAVAILABLE" });
    // The proxy met the dead upstream itself: the poller (every 600 s here) still says running.
    expect((await admin.get(`/api/sessions/${sessionId}`)).json.status).toBe("running");
  });
});
