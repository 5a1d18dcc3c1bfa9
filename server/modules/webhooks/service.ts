/**
 * Webhook endpoints and deliveries (model.ts).
 *
 * An event ({@link WebhookService.publish}: `task.*` from the task runner, `session.stopped` from the
 * session service) becomes one delivery per subscribed endpoint of its user, plus one to the task's own
 * `webhook_url`, each stored in `webhook_deliveries` before anything is sent. A worker sends due deliveries
 * (body `{ type, timestamp, data }`), signed with the `standardwebhooks` package; a 2xx answer marks it
 * delivered, anything else (or no answer within `[webhooks] timeout_seconds`) schedules the next attempt
 * after `retry_delays_seconds[n]` (about a day in all by default), after which it is `failed`. Pending
 * deliveries survive a restart. Each attempt's answer status and error are recorded and visible to the owner.
 *
 * Targets are checked (targets.ts) when an endpoint or task names them and again before every attempt, and
 * an attempt connects to exactly the address it checked (send.ts: no DNS rebinding); redirects are not followed. Signing secrets are sealed by the vault (`webhook-secret:<user>:<endpoint>`).
 */
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import type { OctoConfig } from "../../config/schema.ts";
import type { Database } from "../../db/database.ts";
import { clip, notFound } from "../../../common/errors.ts";
import { randomId } from "../../../common/ids.ts";
import { createLogger } from "../../../common/log.ts";
import type { Vault } from "../../vault.ts";
import { VERSION } from "../../../common/version.ts";
import {
  type CreatedEndpoint,
  type CreateEndpointBody,
  type DeliveryRow,
  type EndpointRow,
  toDelivery,
  toEndpoint,
  type WebhookDelivery,
  type WebhookEndpoint,
  WEBHOOK_EVENTS,
  type WebhookEvent,
} from "./model.ts";
import { postPinned } from "./send.ts";
import { checkTarget, type HostLookup, resolveTarget, systemLookup } from "./targets.ts";

const log = createLogger("webhooks");

/** How often the worker looks for due deliveries, ms. */
const TICK_MS = 500;
/** Deliveries sent at once. */
const CONCURRENCY = 8;

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

export class WebhookService {
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly vault: Vault,
    private readonly options: OctoConfig["webhooks"],
    /** Resolves target host names (the system's resolver; tests pass one they control). */
    private readonly lookup: HostLookup = systemLookup,
  ) {}

  private policy() {
    return { allowPrivate: this.options.allow_private_targets };
  }

  /** Checks a delivery URL (targets.ts). @throws OctoError 400 WEBHOOK_TARGET_INVALID / WEBHOOK_TARGET_FORBIDDEN. */
  checkTarget(url: string): Promise<string> {
    return checkTarget(url, this.policy(), this.lookup);
  }

  // ---- endpoints -----------------------------------------------------------------------------------------

  /** Adds an endpoint. @returns it with its secret (this once). @throws OctoError 400 (the target). */
  async create(userId: string, body: CreateEndpointBody): Promise<CreatedEndpoint> {
    const url = await this.checkTarget(body.url);
    const id = randomId();
    const secret = body.secret ?? newSecret();
    const events = [...new Set(body.events ?? WEBHOOK_EVENTS)];
    this.db
      .query("INSERT INTO webhook_endpoints (id, user_id, url, events, secret_sealed, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(id, userId, url, JSON.stringify(events), this.vault.seal(secret, `webhook-secret:${userId}:${id}`), Date.now());
    log.info("endpoint added", { user: userId, endpoint: id });
    return { ...toEndpoint(this.endpoint(id)!), secret };
  }

  private endpoint(id: string): EndpointRow | null {
    return this.db.query("SELECT * FROM webhook_endpoints WHERE id = ?").get(id) as EndpointRow | null;
  }

  list(userId: string): WebhookEndpoint[] {
    return (this.db.query("SELECT * FROM webhook_endpoints WHERE user_id = ? ORDER BY created_at DESC").all(userId) as EndpointRow[]).map(toEndpoint);
  }

  /**
   * Removes an endpoint and its deliveries. @returns the endpoint as it was (for the audit row).
   * @throws OctoError 404 WEBHOOK_NOT_FOUND (also another user's).
   */
  remove(userId: string, id: string): WebhookEndpoint {
    const row = this.endpoint(id);
    if (!row || row.user_id !== userId) throw notFound("Webhook not found", "WEBHOOK_NOT_FOUND");
    this.db.query("DELETE FROM webhook_endpoints WHERE id = ?").run(id);
    return toEndpoint(row);
  }

  /** The secret that signs deliveries to the user's tasks' own `webhook_url` (made on first use). */
  taskSecret(userId: string): string {
    const context = `webhook-task-secret:${userId}`;
    const row = this.db.query("SELECT secret_sealed FROM webhook_task_secrets WHERE user_id = ?").get(userId) as { secret_sealed: string } | null;
    if (row) return this.vault.open(row.secret_sealed, context);
    const secret = newSecret();
    this.db.query("INSERT OR IGNORE INTO webhook_task_secrets (user_id, secret_sealed, created_at) VALUES (?, ?, ?)").run(userId, this.vault.seal(secret, context), Date.now());
    return this.taskSecret(userId);
  }

  /** The user's deliveries, newest first. */
  deliveries(userId: string, limit = 50): WebhookDelivery[] {
    return (this.db.query("SELECT * FROM webhook_deliveries WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?").all(userId, limit) as DeliveryRow[]).map(toDelivery);
  }

  // ---- events and deliveries -----------------------------------------------------------------------------

  /**
   * Queues `event` for the user's endpoints that subscribe to it and for `extraUrl` (a task's own
   * webhook_url), then lets the worker send them.
   */
  publish(userId: string, event: WebhookEvent, data: Record<string, unknown>, options: { taskId?: string; extraUrl?: string | null } = {}): void {
    const now = Date.now();
    const payload = JSON.stringify({ type: event, timestamp: new Date(now).toISOString(), data });
    const insert = this.db.query(
      `INSERT INTO webhook_deliveries (id, user_id, endpoint_id, task_id, url, event_type, payload, status, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
    );
    const endpoints = this.db.query("SELECT * FROM webhook_endpoints WHERE user_id = ?").all(userId) as EndpointRow[];
    for (const endpoint of endpoints) {
      if (!(JSON.parse(endpoint.events) as string[]).includes(event)) continue;
      insert.run(`msg_${randomId(24)}`, userId, endpoint.id, options.taskId ?? null, endpoint.url, event, payload, now, now, now);
    }
    if (options.extraUrl && event.startsWith("task.")) {
      insert.run(`msg_${randomId(24)}`, userId, null, options.taskId ?? null, options.extraUrl, event, payload, now, now, now);
    }
    void this.tick();
  }

  /** Starts the worker (also sends what a previous run left pending). */
  start(): void {
    this.timer ??= setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref?.();
    void this.tick();
  }

  /** Stops the worker; deliveries in flight finish on their own, pending ones wait for the next start. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async tick(): Promise<void> {
    const room = CONCURRENCY - this.inFlight.size;
    if (room <= 0) return;
    const due = this.db
      .query("SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?")
      .all(Date.now(), room + this.inFlight.size) as DeliveryRow[];
    for (const row of due) {
      if (this.inFlight.has(row.id) || this.inFlight.size >= CONCURRENCY) continue;
      this.inFlight.add(row.id);
      void this.attempt(row).finally(() => this.inFlight.delete(row.id));
    }
  }

  /** The secret that signs a delivery. */
  private secretOf(row: DeliveryRow): string {
    if (!row.endpoint_id) return this.taskSecret(row.user_id);
    const endpoint = this.endpoint(row.endpoint_id)!;
    return this.vault.open(endpoint.secret_sealed, `webhook-secret:${endpoint.user_id}:${endpoint.id}`);
  }

  /**
   * One attempt: resolve and check the target again, send it signed to exactly the checked address
   * (send.ts), record the answer, schedule a retry if needed.
   */
  private async attempt(row: DeliveryRow): Promise<void> {
    const attempts = row.attempts + 1;
    let status: number | null = null;
    let error: string | null = null;
    try {
      const target = await resolveTarget(row.url, this.policy(), this.lookup);
      const timestamp = new Date();
      const signature = new Webhook(this.secretOf(row)).sign(row.id, timestamp, row.payload);
      const headers = {
        "content-type": "application/json",
        "user-agent": `octo/${VERSION}`,
        "webhook-id": row.id,
        "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
        "webhook-signature": signature,
      };
      status = await postPinned(target, headers, row.payload, this.options.timeout_seconds * 1000);
      if (status < 200 || status >= 300) error = `answered HTTP ${status}`;
    } catch (err) {
      error = clip((err as Error).message ?? String(err), 300);
    }
    const now = Date.now();
    if (!error) {
      this.db
        .query("UPDATE webhook_deliveries SET status = 'delivered', attempts = ?, response_status = ?, last_error = NULL, next_attempt_at = NULL, delivered_at = ?, updated_at = ? WHERE id = ?")
        .run(attempts, status, now, now, row.id);
      log.info("delivered", { delivery: row.id, event: row.event_type, status });
      return;
    }
    const delays = this.options.retry_delays_seconds;
    const delay = delays[attempts - 1];
    const next = delay === undefined ? null : now + delay * 1000;
    this.db
      .query("UPDATE webhook_deliveries SET status = ?, attempts = ?, response_status = ?, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?")
      .run(next === null ? "failed" : "pending", attempts, status, error, next, now, row.id);
    log.warn(next === null ? "delivery given up" : "delivery failed, will retry", { delivery: row.id, attempt: attempts, status: status ?? undefined, error });
  }
}
