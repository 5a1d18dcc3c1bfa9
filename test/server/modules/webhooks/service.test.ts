/**
 * Webhook deliveries to a real receiver (Bun.serve) that verifies every signature with the
 * `standardwebhooks` package: signed per the spec, retried after a 500 and recorded (attempts, answer
 * status), given up after the last retry, resent after a restart; endpoints and deliveries through the API,
 * visible only to their owner; forbidden targets refused with nothing stored or queued.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { Webhook } from "standardwebhooks";
import { WebhookService } from "../../../../server/modules/webhooks/service.ts";
import { Vault } from "../../../../server/vault.ts";
import { closeHarnesses, harness } from "../../../support/app.ts";
import { authStack, quickUser, testConfig } from "../../../support/db.ts";
import { eventually } from "../../../support/fakes.ts";

/** A receiver: answers each request with the next status of `statuses` (then 200) and verifies it. */
function receiver(secret: () => string) {
  const got: { id: string; type: string; data: any; verified: boolean; error?: string }[] = [];
  const statuses: number[] = [];
  const server: Server<undefined> = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = await req.text();
      const headers = Object.fromEntries(req.headers);
      let verified = false;
      let error: string | undefined;
      try {
        new Webhook(secret()).verify(body, headers);
        verified = true;
      } catch (err) {
        error = (err as Error).message;
      }
      const json = JSON.parse(body);
      got.push({ id: headers["webhook-id"]!, type: json.type, data: json.data, verified, error });
      return new Response("", { status: statuses.shift() ?? 200 });
    },
  });
  return { got, statuses, url: `http://127.0.0.1:${server.port}/hook`, stop: () => server.stop(true) };
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});
afterAll(() => closeHarnesses());

describe("WebhookService deliveries", () => {
  const config = testConfig({ webhooks: { allow_private_targets: true, retry_delays_seconds: [0.3, 0.3] } }).webhooks;

  test("signed per Standard Webhooks, retried after a 500, each attempt's answer recorded", async () => {
    const t = authStack();
    const { user } = await quickUser(t, "alice");
    const service = new WebhookService(t.db, Vault.forDataDir(t.dir), config);
    let secret = "";
    const r = receiver(() => secret);
    stops.push(r.stop, () => service.stop());
    const endpoint = await service.create(user.id, { url: r.url, events: ["task.succeeded"] });
    secret = endpoint.secret;
    expect(secret).toMatch(/^whsec_/);
    r.statuses.push(500);
    service.start();
    service.publish(user.id, "task.succeeded", { task: { id: "t1" } }, { taskId: "t1" });
    service.publish(user.id, "task.failed", { task: { id: "t2" } }, { taskId: "t2" }); // not subscribed
    await eventually(() => service.deliveries(user.id)[0]?.status === "delivered", "the delivery to succeed", 10_000);
    expect(r.got.map((g) => [g.type, g.verified, g.data.task.id])).toEqual([
      ["task.succeeded", true, "t1"],
      ["task.succeeded", true, "t1"],
    ]);
    expect(r.got[0]!.id).toBe(r.got[1]!.id); // the same message, retried
    const [delivery] = service.deliveries(user.id);
    expect(delivery).toMatchObject({ id: r.got[0]!.id, status: "delivered", attempts: 2, response_status: 200, last_error: null, event: "task.succeeded", endpoint_id: endpoint.id });
    // The secret is stored sealed, not as is.
    expect(JSON.stringify(t.db.query("SELECT * FROM webhook_endpoints").all())).not.toContain(secret.slice(6));
  });

  test("a target that keeps failing is given up after the last retry; a tampered signature does not verify", async () => {
    const t = authStack();
    const { user } = await quickUser(t, "bob");
    const service = new WebhookService(t.db, Vault.forDataDir(t.dir), config);
    const r = receiver(() => "whsec_" + Buffer.alloc(32, 1).toString("base64")); // not the endpoint's secret
    stops.push(r.stop, () => service.stop());
    r.statuses.push(500, 503, 500);
    await service.create(user.id, { url: r.url });
    service.start();
    service.publish(user.id, "session.stopped", { session: { id: "s1" } });
    await eventually(() => service.deliveries(user.id)[0]?.status === "failed", "the delivery to be given up", 10_000);
    expect(service.deliveries(user.id)[0]).toMatchObject({ attempts: 3, response_status: 500, last_error: "answered HTTP 500", next_attempt_at: null });
    expect(r.got.map((g) => g.verified)).toEqual([false, false, false]);
  });

  test("a delivery left pending by a stopped worker is sent by the next one (it is in the database)", async () => {
    const t = authStack();
    const { user } = await quickUser(t, "carol");
    const before = new WebhookService(t.db, Vault.forDataDir(t.dir), { ...config, retry_delays_seconds: [1] });
    let secret = "";
    const r = receiver(() => secret);
    stops.push(r.stop);
    secret = (await before.create(user.id, { url: r.url })).secret;
    r.statuses.push(500);
    before.publish(user.id, "task.waiting", { task: { id: "t9" } });
    await eventually(() => before.deliveries(user.id)[0]?.attempts === 1, "the first attempt", 10_000);
    before.stop();
    const after = new WebhookService(t.db, Vault.forDataDir(t.dir), config);
    stops.push(() => after.stop());
    after.start();
    await eventually(() => after.deliveries(user.id)[0]?.status === "delivered", "the retry by the new worker", 10_000);
    expect(r.got.at(-1)!.verified).toBe(true);
  });
});

describe("WebhookService redirects", () => {
  test("a redirect is not followed: the attempt fails with the 3xx, the redirect's target never hears of it", async () => {
    const t = authStack();
    const { user } = await quickUser(t, "dave");
    const service = new WebhookService(t.db, Vault.forDataDir(t.dir), { ...testConfig({ webhooks: { allow_private_targets: true } }).webhooks, retry_delays_seconds: [] });
    const inner = receiver(() => "");
    const outer = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(null, { status: 307, headers: { location: inner.url } }) });
    stops.push(inner.stop, () => outer.stop(true), () => service.stop());
    await service.create(user.id, { url: `http://127.0.0.1:${outer.port}/hook` });
    service.publish(user.id, "task.failed", { task: { id: "t" } });
    await eventually(() => service.deliveries(user.id)[0]?.status === "failed", "the delivery to fail", 10_000);
    expect(service.deliveries(user.id)[0]).toMatchObject({ attempts: 1, response_status: 307, last_error: "answered HTTP 307" });
    expect(inner.got).toEqual([]);
  });
});

describe("webhook routes", () => {
  test("endpoints through the API; forbidden targets refused, nothing stored or queued", async () => {
    const h = harness();
    const alice = await quickUser(h, "alice");
    const bob = await quickUser(h, "bob");
    for (const url of ["http://127.0.0.1:9/x", "http://localhost/x", "http://169.254.169.254/", "http://[::1]/x"]) {
      const res = await h.call("POST", "/api/webhooks", { token: alice.token, body: { url } });
      expect([res.status, res.json.code]).toEqual([400, "WEBHOOK_TARGET_FORBIDDEN"]);
      const task = await h.call("POST", "/api/tasks", { token: alice.token, body: { prompt: "hi", webhook_url: url } });
      expect([task.status, task.json.code]).toEqual([400, "WEBHOOK_TARGET_FORBIDDEN"]);
    }
    expect((await h.call("GET", "/api/webhooks", { token: alice.token })).json).toEqual([]);
    expect((await h.call("GET", "/api/tasks", { token: alice.token })).json.tasks).toEqual([]);
    const bad = await h.call("POST", "/api/webhooks", { token: alice.token, body: { url: "https://8.8.8.8/x", events: ["nope"] } });
    expect(bad.status).toBe(400);

    const created = await h.call("POST", "/api/webhooks", { token: alice.token, body: { url: "https://8.8.8.8/hook", events: ["task.failed"] } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ url: "https://8.8.8.8/hook", events: ["task.failed"] });
    expect(created.json.secret).toMatch(/^whsec_/);
    const listed = (await h.call("GET", "/api/webhooks", { token: alice.token })).json;
    expect(listed).toEqual([{ id: created.json.id, url: "https://8.8.8.8/hook", events: ["task.failed"], created_at: created.json.created_at }]);
    expect((await h.call("GET", "/api/webhooks", { token: bob.token })).json).toEqual([]);
    expect((await h.call("DELETE", `/api/webhooks/${created.json.id}`, { token: bob.token })).json.code).toBe("WEBHOOK_NOT_FOUND");
    const secret = (await h.call("GET", "/api/webhooks/task-secret", { token: alice.token })).json.secret;
    expect(secret).toMatch(/^whsec_/);
    expect((await h.call("GET", "/api/webhooks/task-secret", { token: alice.token })).json.secret).toBe(secret);
    expect((await h.call("GET", "/api/webhooks/task-secret", { token: bob.token })).json.secret).not.toBe(secret);
    expect((await h.call("GET", "/api/webhooks/deliveries", { token: alice.token })).json).toEqual([]);
    expect((await h.call("DELETE", `/api/webhooks/${created.json.id}`, { token: alice.token })).status).toBe(204);
  });
});
