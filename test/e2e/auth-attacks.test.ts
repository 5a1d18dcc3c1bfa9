/**
 * The attacks of issue 11 against a real `octo serve`, performed as an attacker would: parallel login
 * guesses, a cross-site login form and a same-site frame in real Chromium, registration probes and floods,
 * a look-alike origin, `Sec-Fetch-Site`, an absolute-form request target and invisible characters in names.
 * The attacker's pages come from a second server: `attacker.test` (mapped to 127.0.0.1 in Chromium) is
 * another site, `127.0.0.1:<other port>` the same site on another origin.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import type { Server } from "bun";
import { ensureWebBuild, launchBrowser } from "../support/browser.ts";
import { Api, type OctoServerProcess, runOcto, startOcto } from "../support/octo.ts";

const SLOW = 120_000;
const PASSWORD = "correct horse battery";

let octo: OctoServerProcess;
let api: Api;
let admin: Api;
let adminToken = "";
let attacker: Server<undefined>;
/** The pages the attacker's server answers, by path. */
const pages = new Map<string, string>();

function invite(server: OctoServerProcess, args: string[] = []): string {
  const out = runOcto(["invite-codes", "generate", "--data-dir", server.dataDir, ...args]);
  if (out.code !== 0) throw new Error(out.stderr);
  return out.stdout.trim();
}

beforeAll(async () => {
  ensureWebBuild();
  octo = await startOcto();
  api = new Api(octo.url);
  const reg = await api.post("/api/auth/register", { username: "root", password: PASSWORD, invite_code: octo.firstInvite });
  expect(reg.status).toBe(201);
  adminToken = reg.json.token;
  admin = api.as(adminToken);
  const mallory = await api.post("/api/auth/register", { username: "mallory", password: "mallory-password", invite_code: invite(octo) });
  expect(mallory.status).toBe(201);
  attacker = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const page = pages.get(new URL(req.url).pathname);
      return page ? new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } }) : new Response("no", { status: 404 });
    },
  });
}, SLOW);

afterAll(async () => {
  attacker?.stop(true);
  await octo?.stop();
});

describe("login throttling holds under concurrency", () => {
  test("40 parallel logins, the last with the right password: no more than login_max_attempts are evaluated", async () => {
    const attempts = Array.from({ length: 40 }, (_, i) => ({ username: "root", password: i === 39 ? PASSWORD : `guess number ${i}` }));
    const results = await Promise.all(attempts.map((body) => api.post("/api/auth/login", body)));
    const evaluated = results.filter((r) => r.status === 401 || r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(evaluated.length).toBeLessThanOrEqual(10); // [auth] login_max_attempts
    expect(evaluated.length + limited.length).toBe(40);
    expect(limited.every((r) => r.json.code === "TOO_MANY_ATTEMPTS" && Number(r.headers.get("retry-after")) > 0)).toBe(true);
  }, SLOW);
});

describe("login CSRF: login, register and logout refuse other sites and non-JSON bodies", () => {
  test("form, multipart and text/plain bodies are 415 and set no cookie; JSON works", async () => {
    const forms: [string, string][] = [
      ["application/x-www-form-urlencoded", "username=mallory&password=mallory-password"],
      ["multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nmallory\r\n--x--\r\n'],
      ["text/plain", '{"username":"mallory","password":"mallory-password","x":"="}'],
    ];
    for (const path of ["/api/auth/login", "/api/auth/register", "/api/auth/logout"]) {
      for (const [type, body] of forms) {
        const res = await fetch(`${octo.url}${path}`, { method: "POST", headers: { "content-type": type, authorization: `Bearer ${adminToken}` }, body });
        expect([path, type, res.status, ((await res.json()) as { code: string }).code]).toEqual([path, type, 415, "UNSUPPORTED_MEDIA_TYPE"]);
        expect(res.headers.get("set-cookie")).toBeNull();
      }
    }
    expect((await admin.get("/api/me")).status).toBe(200); // the refused logouts revoked nothing
    expect((await api.post("/api/auth/login", { username: "mallory", password: "mallory-password" })).status).toBe(200);
  });

  test("a cross-site Origin, or Sec-Fetch-Site: cross-site without Origin, is 403 even with a JSON body", async () => {
    const body = { username: "mallory", password: "mallory-password" };
    const refused: Record<string, string>[] = [{ origin: "http://attacker.test" }, { "sec-fetch-site": "cross-site" }, { origin: "null" }];
    for (const headers of refused) {
      for (const path of ["/api/auth/login", "/api/auth/register", "/api/auth/logout"]) {
        const res = await api.as(adminToken).post(path, path.endsWith("register") ? { ...body, invite_code: "x" } : body, headers);
        expect([path, headers, res.status, res.json.code]).toEqual([path, headers, 403, "CROSS_ORIGIN"]);
        expect(res.headers.get("set-cookie")).toBeNull();
      }
    }
    expect((await admin.get("/api/me")).status).toBe(200);
  });

  test("in Chromium, a cross-site form does not log the victim into the attacker's account", async () => {
    const login = `${octo.url}/api/auth/login`;
    pages.set(
      "/csrf-form.html",
      `<form id=f method=POST action="${login}"><input name=username value=mallory><input name=password value=mallory-password></form>` +
        "<script>document.getElementById('f').submit()</script>",
    );
    pages.set(
      "/csrf-json.html",
      `<form id=f method=POST enctype=text/plain action="${login}"><input name='{"username":"mallory","password":"mallory-password","x":"' value='"}'></form>` +
        "<script>document.getElementById('f').submit()</script>",
    );
    const victim = await launchBrowser({ baseURL: octo.url, args: ["--host-resolver-rules=MAP attacker.test 127.0.0.1"] });
    try {
      for (const path of ["/csrf-form.html", "/csrf-json.html"]) {
        const answer = victim.page.waitForResponse((r) => r.url() === login);
        await victim.page.goto(`http://attacker.test:${attacker.port}${path}`);
        expect([path, (await answer).status()]).toEqual([path, 403]);
        expect((await victim.context.cookies(octo.url)).map((c) => c.name)).not.toContain("octo_token");
        expect((await victim.page.request.get(`${octo.url}/api/me`)).status()).toBe(401);
      }
    } finally {
      await victim.close();
    }
  }, SLOW);
});

describe("the web app cannot be framed and runs under a strict CSP", () => {
  test("answers carry the Content-Security-Policy, X-Frame-Options and Referrer-Policy", async () => {
    for (const path of ["/", "/sessions/abc"]) {
      const res = await fetch(`${octo.url}${path}`, { headers: { accept: "text/html" } });
      expect(res.status).toBe(200);
      const csp = res.headers.get("content-security-policy") ?? "";
      for (const directive of ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]) {
        expect(csp).toContain(directive);
      }
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });

  test("in Chromium, a same-site page cannot frame the logged-in app", async () => {
    pages.set("/frame.html", `<h1>win a prize</h1><iframe id=victim width=800 height=600 src="${octo.url}/"></iframe>`);
    const victim = await launchBrowser({ baseURL: octo.url });
    try {
      // (root's attempts from this address were used up by the throttling test above.)
      const login = await victim.page.request.post("/api/auth/login", { data: { username: "mallory", password: "mallory-password" } });
      expect(login.status()).toBe(200);
      // Control: top-level, the app renders.
      await victim.page.goto("/");
      await victim.page.locator(".user-name").waitFor();
      // Framed by a page of the same site (127.0.0.1, another port), it must not.
      const framed = victim.page.waitForResponse((r) => r.url() === `${octo.url}/`);
      await victim.page.goto(`http://127.0.0.1:${attacker.port}/frame.html`);
      await framed;
      await victim.page.waitForLoadState("load");
      const frame = victim.page.frames().find((f) => f !== victim.page.mainFrame());
      expect(frame).toBeDefined();
      expect(await frame!.locator("#root").count()).toBe(0);
      expect(await frame!.locator(".user-name").count()).toBe(0);
      expect(victim.cspViolations.some((v) => v.includes("frame-ancestors"))).toBe(true);
    } finally {
      await victim.close();
    }
  }, SLOW);
});

describe("registration neither leaks usernames nor burns CPU", () => {
  test("a bad invite code gets the same answer whether the username is taken or not", async () => {
    const taken = await api.post("/api/auth/register", { username: "root", password: PASSWORD, invite_code: "OCTO-AAAA-BBBB-CCCC-DDDD-EEEE-FFFF" });
    const free = await api.post("/api/auth/register", { username: "nobody-here", password: PASSWORD, invite_code: "OCTO-AAAA-BBBB-CCCC-DDDD-EEEE-FFFF" });
    expect([taken.status, taken.json]).toEqual([400, { error: "Invite code is invalid, expired, revoked or already used", code: "INVALID_INVITE" }]);
    expect([free.status, free.json]).toEqual([taken.status, taken.json]);
    // With a valid code the name is checked, and the code is not used up by the refusal.
    const code = invite(octo);
    expect((await api.post("/api/auth/register", { username: "root", password: PASSWORD, invite_code: code })).status).toBe(409);
    expect((await api.post("/api/auth/register", { username: "rootless", password: PASSWORD, invite_code: code })).status).toBe(201);
  });

  describe("on a server with one password hash at a time and 12 registrations per client", () => {
    let small: OctoServerProcess;
    let client: Api;

    beforeAll(async () => {
      small = await startOcto({
        env: {
          OCTO_AUTH__MAX_CONCURRENT_PASSWORD_HASHES: "1",
          OCTO_AUTH__MAX_QUEUED_PASSWORD_HASHES: "1",
          OCTO_AUTH__REGISTER_MAX_ATTEMPTS: "12",
        },
      });
      client = new Api(small.url);
    }, SLOW);

    afterAll(async () => {
      await small?.stop();
    });

    test("parallel registrations beyond the hash bound get 429 SERVER_BUSY with Retry-After", async () => {
      const code = invite(small, ["--uses", "6"]);
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => client.post("/api/auth/register", { username: `burst${i}`, password: PASSWORD, invite_code: code })),
      );
      const busy = results.filter((r) => r.status === 429);
      expect(results.filter((r) => r.status === 201).length).toBeGreaterThanOrEqual(2); // one hashing, one waiting
      expect(busy.length).toBeGreaterThan(0);
      expect(busy.every((r) => r.json.code === "SERVER_BUSY" && r.headers.get("retry-after") === "1")).toBe(true);
      expect(results.filter((r) => r.status !== 201 && r.status !== 429)).toEqual([]);
    }, SLOW);

    test("bogus codes are refused before any hashing, then the client is throttled", async () => {
      // Six at once against a bound of one hash (and one waiting): none is refused as busy, so none was hashed.
      // (The burst above used at most four of the client's twelve attempts; successful ones are given back.)
      const burst = await Promise.all(
        Array.from({ length: 6 }, (_, i) => client.post("/api/auth/register", { username: `bogus${i}`, password: PASSWORD, invite_code: `OCTO-NOPE-${i}` })),
      );
      expect(burst.map((r) => [r.status, r.json.code])).toEqual(Array(6).fill([400, "INVALID_INVITE"]));
      const codes: string[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await client.post("/api/auth/register", { username: `late${i}`, password: PASSWORD, invite_code: "OCTO-NOPE" });
        codes.push(res.json.code);
        if (res.status === 429) expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      }
      const first = codes.indexOf("TOO_MANY_ATTEMPTS");
      expect(first).toBeGreaterThanOrEqual(0);
      expect(codes.slice(first).every((c) => c === "TOO_MANY_ATTEMPTS")).toBe(true);
      // A right code from that client now waits too: the limit is per client, not per code.
      const late = await client.post("/api/auth/register", { username: "latecomer", password: PASSWORD, invite_code: invite(small) });
      expect([late.status, late.json.code]).toEqual([429, "TOO_MANY_ATTEMPTS"]);
    }, SLOW);
  });
});

describe("smaller: scheme, Sec-Fetch-Site, request targets, names", () => {
  test("an https Origin on an http site is another origin: cookie writes from it are 403", async () => {
    const cookie = `octo_token=${adminToken}`;
    const https = await new Api(octo.url, { cookie }).request("POST", "/api/admin/invite-codes", {}, { origin: octo.url.replace("http:", "https:") });
    expect([https.status, https.json.code]).toEqual([403, "CROSS_ORIGIN"]);
    const ws = await rawRequest(octo.port, `GET /session/abc/term?token=${adminToken} HTTP/1.1`, {
      Origin: octo.url.replace("http:", "https:"),
      Connection: "Upgrade",
      Upgrade: "websocket",
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": "MDEyMzQ1Njc4OWFiY2RlZg==",
    });
    expect([ws.status, JSON.parse(ws.body).code]).toEqual([403, "CROSS_ORIGIN"]);
    const same = await new Api(octo.url, { cookie }).request("POST", "/api/admin/invite-codes", {}, { origin: octo.url });
    expect(same.status).toBe(201);
  });

  test("a cookie write without Origin but with Sec-Fetch-Site: cross-site is 403; same-origin and curl-like pass", async () => {
    const cookieApi = new Api(octo.url, { cookie: `octo_token=${adminToken}` });
    const before = (await admin.get("/api/admin/invite-codes")).json.length;
    const cross = await cookieApi.request("POST", "/api/admin/invite-codes", {}, { "sec-fetch-site": "cross-site" });
    expect([cross.status, cross.json.code]).toEqual([403, "CROSS_ORIGIN"]);
    expect((await cookieApi.request("POST", "/api/admin/invite-codes", {}, { "sec-fetch-site": "same-origin" })).status).toBe(201);
    expect((await cookieApi.request("POST", "/api/admin/invite-codes", {})).status).toBe(201);
    expect((await admin.get("/api/admin/invite-codes")).json.length).toBe(before + 2);
  });

  test("an absolute-form, authority-form or asterisk request target is 400, not 500", async () => {
    for (const line of ["GET http://127.0.0.1:1/x HTTP/1.1", "GET http://127.0.0.1:1/session/abc/code/x HTTP/1.1", "POST http://127.0.0.1:1/api/auth/login HTTP/1.1"]) {
      const answer = await rawRequest(octo.port, line);
      expect([line, answer.status, JSON.parse(answer.body)]).toEqual([
        line,
        400,
        { error: "The request target must be a path starting with /", code: "BAD_REQUEST_TARGET" },
      ]);
    }
    const upgrade = await rawRequest(octo.port, "GET http://127.0.0.1:1/session/abc/term HTTP/1.1", { Connection: "Upgrade", Upgrade: "websocket" });
    expect([upgrade.status, JSON.parse(upgrade.body).code]).toEqual([400, "BAD_REQUEST_TARGET"]);
    // Bun's HTTP parser itself answers the asterisk form with a bare 400.
    expect((await rawRequest(octo.port, "OPTIONS * HTTP/1.1")).status).toBe(400);
    expect((await api.get("/api/health")).status).toBe(200);
  });

  test("session names with bidi overrides or zero-width characters are 400 and create nothing", async () => {
    for (const name of ["invoice\u202Etxt.exe", "a\u200Bb", "a\u2066b\u2069", "na\uFEFFme", "line\u2028break"]) {
      const res = await admin.post("/api/sessions?wait=false", { name });
      expect([JSON.stringify(name), res.status, res.json]).toEqual([
        JSON.stringify(name),
        400,
        { error: "name must not contain bidi or zero-width characters", code: "VALIDATION_FAILED" },
      ]);
    }
    expect((await admin.get("/api/sessions")).json).toEqual([]);
  });
});

/** Sends one raw request (`line` is the request line) and reads the answer until the server closes. */
function rawRequest(port: number, line: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${line}: ${JSON.stringify(data)}`));
    }, 10_000);
    socket.on("connect", () => {
      const head = { Host: `127.0.0.1:${port}`, Connection: "close", ...headers };
      socket.write(`${line}\r\n${Object.entries(head).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`);
    });
    socket.on("data", (chunk) => {
      data += chunk.toString();
      const cut = data.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(data)?.[1];
      if (cut >= 0 && length !== undefined && data.length >= cut + 4 + Number(length)) socket.end();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      const cut = data.indexOf("\r\n\r\n");
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), body: cut >= 0 ? data.slice(cut + 4) : "" });
    });
  });
}
