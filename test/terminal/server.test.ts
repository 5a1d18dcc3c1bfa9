/** The terminal server's HTTP side: /health, auth before the upgrade, plain requests, start errors. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { RunningTerminalServer } from "../../terminal/server.ts";
import { rmSync } from "node:fs";
import { tempDir } from "../support/tmp.ts";
import { eventually } from "../support/eventually.ts";
import { basic, connect, startServer, TOKEN } from "./client.ts";

let server: RunningTerminalServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

/** A WebSocket handshake request without a client library, so the refusal's status and body can be read. */
function handshake(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    headers: {
      Connection: "Upgrade",
      Upgrade: "websocket",
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": Buffer.from("0123456789abcdef").toString("base64"),
      ...headers,
    },
  });
}

test("GET /health answers without auth", async () => {
  const res = await fetch(`${server.url}/health`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: "ok", sessions: 0 });
});

test("/health counts open shells", async () => {
  const c = await connect(server);
  expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: "ok", sessions: 1 });
  c.ws.close();
});

test("upgrade without a token, or with a wrong one, is refused with 401 before upgrading", async () => {
  await eventually(() => server.sessions() === 0, "the session to be closed");
  const attempts: Record<string, string>[] = [{}, { Authorization: basic("wrong") }, { Authorization: "Bearer wrong" }, { Authorization: basic("") }];
  for (const headers of attempts) {
    const res = await handshake("/", headers);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "Missing or wrong service token", code: "UNAUTHORIZED" });
  }
  expect(server.sessions()).toBe(0);
});

test("a client library sees the refusal as a failed connection", async () => {
  const refused = connect(server, "", { Authorization: basic("nope") });
  await expect(refused).rejects.toThrow("WebSocket failed to open");
});

test("Basic with any user name and Bearer both authenticate", async () => {
  for (const auth of [basic(TOKEN, "someone-else"), `Bearer ${TOKEN}`]) {
    const c = await connect(server, "", { Authorization: auth });
    c.type("echo auth-$((5+5))\r");
    expect(await c.waitFor(/auth-10/)).toContain("auth-10");
    c.ws.close();
  }
});

test("a bad size in the query is a 400 before upgrading", async () => {
  const res = await handshake("/?cols=0&rows=24", { Authorization: basic(TOKEN) });
  expect(res.status).toBe(400);
  expect((await res.json()).code).toBe("BAD_SIZE");
});

test("plain requests get 426 on / and 404 elsewhere, as { error, code }", async () => {
  const root = await fetch(`${server.url}/`);
  expect(root.status).toBe(426);
  expect((await root.json()).code).toBe("UPGRADE_REQUIRED");
  const other = await fetch(`${server.url}/nothing`);
  expect(other.status).toBe(404);
  expect(await other.json()).toEqual({ error: "Not found", code: "NOT_FOUND" });
});

test("with no token configured, upgrades need no auth", async () => {
  const open = await startServer({ token: undefined });
  const c = await connect(open, "", {});
  c.type("echo open-$((1+6))\r");
  expect(await c.waitFor(/open-7/)).toContain("open-7");
  await open.stop();
});

test("start fails clearly on a missing cwd or shell", async () => {
  await expect(startServer({ cwd: `${tempDir()}/missing` })).rejects.toMatchObject({ code: "TERMINAL_BAD_CWD" });
  await expect(startServer({ shell: "/no/such/shell" })).rejects.toMatchObject({ code: "TERMINAL_BAD_SHELL" });
});

test("start fails clearly when the port is taken", async () => {
  await expect(startServer({ port: server.port })).rejects.toMatchObject({ code: "TERMINAL_LISTEN_FAILED" });
});

test("a shell that cannot start closes the socket with 1011", async () => {
  const cwd = tempDir("gone-");
  const own = await startServer({ cwd });
  rmSync(cwd, { recursive: true });
  const c = await connect(own);
  expect(await c.closed).toEqual({ code: 1011, reason: "cannot start shell" });
  expect(own.sessions()).toBe(0);
  await own.stop();
});
