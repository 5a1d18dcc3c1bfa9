/**
 * `GET /metrics` on a real `octo serve`: off by default (404); when on, the `[metrics] token` as Bearer or an
 * admin's login reads it, a user's login, another token or nothing does not; the answer is the Prometheus
 * text format (parsed with a text-format parser) and counts the logins and requests the test made. Sessions
 * by state, their start times and their memory: the app harness, whose fake runtime starts sessions in
 * milliseconds and answers `memory()` with what the test sets.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { registry, watchSessions } from "../../../../server/metrics.ts";
import { quickUser } from "../../../support/db.ts";
import { eventually } from "../../../support/eventually.ts";
import { closeHarnesses, harness } from "../../../support/app.ts";
import { Api, type OctoServerProcess, startOcto } from "../../../support/octo.ts";
import { parseScrape, value } from "../../../support/prometheus.ts";

setDefaultTimeout(60_000);

const TOKEN = "scrape-token-0123456789";

describe("GET /metrics is off by default", () => {
  let server: OctoServerProcess;
  beforeAll(async () => {
    server = await startOcto();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("404 even with an admin's login", async () => {
    const api = new Api(server.url);
    const admin = await api.post("/api/auth/register", { username: "root", password: "root-password", invite_code: server.firstInvite });
    expect(admin.status).toBe(201);
    const res = await api.as(admin.json.token).get("/metrics");
    expect([res.status, res.json?.code]).toEqual([404, "NOT_FOUND"]);
  });
});

describe("GET /metrics when [metrics] enabled", () => {
  let server: OctoServerProcess;
  let api: Api;
  let admin = "";
  let user = "";
  beforeAll(async () => {
    server = await startOcto({ env: { OCTO_METRICS__ENABLED: "true", OCTO_METRICS__TOKEN: `"${TOKEN}"` } });
    api = new Api(server.url);
    admin = (await api.post("/api/auth/register", { username: "root", password: "root-password", invite_code: server.firstInvite })).json.token;
    const invite = await api.as(admin).post("/api/admin/invite-codes", {});
    user = (await api.post("/api/auth/register", { username: "bob", password: "bob-password", invite_code: invite.json.code })).json.token;
  });
  afterAll(async () => {
    await server?.stop();
  });

  const scrape = async (authorization: string) => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
    return parseScrape(await res.text());
  };

  test("nothing, a wrong token or a user's login is refused; the token or an admin's login reads it", async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect([wrong.status, ((await wrong.json()) as { code: string }).code]).toEqual([401, "INVALID_TOKEN"]);
    const asUser = await api.as(user).get("/metrics");
    expect([asUser.status, asUser.json.code]).toEqual([403, "ADMIN_ONLY"]);
    expect((await scrape(`Bearer ${TOKEN}`)).size).toBeGreaterThan(0);
    expect((await scrape(`Bearer ${admin}`)).size).toBeGreaterThan(0);
  });

  test("counts logins and their failures, requests by route and status, and reports every family", async () => {
    const before = await scrape(`Bearer ${TOKEN}`);
    expect((await api.post("/api/auth/login", { username: "bob", password: "wrong-password" })).status).toBe(401);
    expect((await api.post("/api/auth/login", { username: "bob", password: "bob-password" })).status).toBe(200);
    expect((await api.as(user).get("/api/sessions/nope")).status).toBe(404);
    const after = await scrape(`Bearer ${TOKEN}`);

    const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
    expect(delta("octo_logins_total", { outcome: "failure" })).toBe(1);
    expect(delta("octo_logins_total", { outcome: "success" })).toBe(1);
    expect(delta("octo_http_requests_total", { entry: "api", route: "/api/auth/login", method: "POST", status: "401" })).toBe(1);
    expect(delta("octo_http_requests_total", { entry: "api", route: "/api/sessions/:id", method: "GET", status: "404" })).toBe(1);
    expect(delta("octo_http_request_duration_seconds_count", { entry: "api", route: "/api/auth/login" })).toBe(2);
    expect(after.get("octo_http_request_duration_seconds")?.type).toBe("HISTOGRAM");
    // No route label holds an id.
    for (const sample of after.get("octo_http_requests_total")!.metrics) expect(sample.labels?.route).not.toContain("nope");
    for (const name of ["octo_proxy_upstream_errors_total", "octo_open_connections", "octo_sessions", "octo_session_start_duration_seconds"]) {
      expect(after.has(name)).toBe(true);
    }
    expect(value(after, "octo_sessions", { state: "running" })).toBe(0);
  });

  test("the real server writes an access line per request, with the request id it answers with", async () => {
    const res = await fetch(`${server.url}/metrics?token=${TOKEN}`, { headers: { authorization: `Bearer ${TOKEN}`, "x-request-id": "scrape-42" } });
    expect(res.headers.get("x-request-id")).toBe("scrape-42");
    await res.text();
    const line = await eventually(() => server.output().split("\n").find((l) => l.includes("service=access") && l.includes("request=scrape-42")), "the access line");
    expect(line).toContain(" method=GET path=/metrics status=200 ");
    expect(line).not.toContain(TOKEN);
  });
});

describe("session metrics (app harness, fake runtime)", () => {
  afterAll(closeHarnesses);

  test("sessions by state come from the session service at scrape time; each start is timed", async () => {
    const h = harness({ metrics: { enabled: true, token: TOKEN } });
    const stop = watchSessions(h.sessions);
    try {
      const alice = await quickUser(h, "alice");
      const scrape = async () => {
        // Not an /api route: the OpenAPI document (and so the harness's contract check) covers /api only.
        const res = await h.call("GET", "/metrics", { token: TOKEN, contract: false });
        expect(res.status).toBe(200);
        return parseScrape(res.text);
      };
      const before = await scrape();
      expect(value(before, "octo_sessions", { state: "running" })).toBe(0);
      const created = await h.call("POST", "/api/sessions", { token: alice.token, body: { name: "one" } });
      expect(created.status).toBe(201);
      const after = await scrape();
      expect(value(after, "octo_sessions", { state: "running" })).toBe(1);
      const started = (s: typeof after) => value(s, "octo_session_start_duration_seconds_count", { outcome: "running" });
      expect(started(after) - started(before)).toBe(1);
      expect(await registry.metrics()).toContain("octo_session_start_duration_seconds_bucket");
    } finally {
      stop();
    }
  });

  test("per-session memory: one series per running session, what the runtime measures (as the admin page shows), gone once stopped", async () => {
    const h = harness({ metrics: { enabled: true, token: TOKEN } });
    const stop = watchSessions(h.sessions);
    try {
      const alice = await quickUser(h, "alice");
      const admin = await quickUser(h, "root", "admin");
      const scrape = async () => {
        const res = await h.call("GET", "/metrics", { token: TOKEN, contract: false });
        expect(res.status).toBe(200);
        return parseScrape(res.text);
      };
      const sizes = new Map<string, number>();
      h.runtime.behaviour.memoryBytes = (spec) => sizes.get(spec.id) ?? null;
      const one = (await h.call("POST", "/api/sessions", { token: alice.token, body: { name: "one" } })).json as { id: string };
      const two = (await h.call("POST", "/api/sessions", { token: alice.token, body: { name: "two" } })).json as { id: string };
      const three = (await h.call("POST", "/api/sessions", { token: alice.token, body: { name: "three" } })).json as { id: string };
      sizes.set(one.id, 300 * 1024 * 1024);
      sizes.set(two.id, 41_943_040);
      // three: its runtime cannot measure it, so it has no series.

      const during = await scrape();
      const family = during.get("octo_session_memory_bytes")!;
      expect(family.type).toBe("GAUGE");
      const series = Object.fromEntries(family.metrics.map((m) => [m.labels?.session, Number(m.value)]));
      expect(series).toEqual({ [one.id]: 300 * 1024 * 1024, [two.id]: 41_943_040 });
      expect(three.id in series).toBe(false);

      // The same numbers as the admin page's usage column.
      const page = await h.call("GET", "/api/admin/sessions?usage=true", { token: admin.token });
      expect(page.status).toBe(200);
      const usage = Object.fromEntries((page.json as { id: string; usage: { memory_bytes: number | null } }[]).map((s) => [s.id, s.usage.memory_bytes]));
      expect([usage[one.id], usage[two.id], usage[three.id]]).toEqual([series[one.id], series[two.id], null]);

      expect((await h.call("POST", `/api/sessions/${one.id}/stop`, { token: alice.token })).status).toBe(200);
      const after = await scrape();
      const left = after.get("octo_session_memory_bytes")!.metrics.map((m) => m.labels?.session);
      expect(left).toEqual([two.id]);
    } finally {
      stop();
    }
  });
});
