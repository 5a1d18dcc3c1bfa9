/**
 * `octoctl webhook create|list|delete|deliveries`: webhook endpoints (`/api/webhooks`) that receive task
 * and session events signed per Standard Webhooks. The signing secret is printed once, at creation.
 */
import type { Command } from "commander";
import { WEBHOOK_EVENTS } from "../../server/modules/webhooks/events.ts";
import type { WebhookDelivery, WebhookEndpoint, WebhookEvent } from "../../server/modules/webhooks/model.ts";
import { usageError } from "../shared/errors.ts";
import { age, print, printJson, say, table } from "../shared/format.ts";
import { context } from "./context.ts";

/** The table `webhook list` prints. */
export function webhookTable(endpoints: WebhookEndpoint[], now = Date.now()): string {
  return table(["id", "url", "events", "added"], endpoints.map((w) => [w.id, w.url, w.events.join(","), `${age(w.created_at, now)} ago`]));
}

/** The table `webhook deliveries` prints. */
export function deliveryTable(deliveries: WebhookDelivery[], now = Date.now()): string {
  const rows = deliveries.map((d) => [d.id, d.status, d.event, d.url, d.attempts, d.response_status ? `HTTP ${d.response_status}` : (d.last_error ?? "-"), `${age(d.created_at, now)} ago`]);
  return table(["id", "state", "event", "url", "attempts", "answer", "created"], rows);
}

/** Registers the `webhook` command group. */
export function registerWebhook(program: Command): void {
  const group = program
    .command("webhook")
    .alias("webhooks")
    .description("webhook endpoints for task and session events (Standard Webhooks)")
    .addHelpText(
      "after",
      `
Events: ${WEBHOOK_EVENTS.join(", ")} (default: all).

Examples:
  octoctl webhook create https://ci.example.com/hooks/octo --event task.succeeded --event task.failed
  octoctl webhook deliveries`,
    );

  group
    .command("create")
    .description("add an endpoint and print its signing secret (once)")
    .argument("<url>", "http(s) URL on a public address")
    .option("--event <event>", `an event to send (repeat for several): ${WEBHOOK_EVENTS.join(", ")}`, (v: string, all: string[]) => [...all, v], [] as string[])
    .action(async (url: string, options: { event: string[] }, command: Command) => {
      const ctx = context(command);
      for (const e of options.event) if (!(WEBHOOK_EVENTS as readonly string[]).includes(e)) throw usageError(`unknown event ${JSON.stringify(e)}; events: ${WEBHOOK_EVENTS.join(", ")}`);
      const events = options.event as WebhookEvent[];
      const created = await ctx.client.call((api) => api.webhooks.post({ url, ...(events.length ? { events } : {}) }));
      if (ctx.json) return printJson(created);
      say(`Added webhook ${created.id} for ${created.events.join(", ")}. Its signing secret, shown only now:`);
      print(created.secret);
    });

  group
    .command("list")
    .alias("ls")
    .description("list your endpoints (never their secrets)")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const endpoints = await ctx.client.call((api) => api.webhooks.get());
      if (ctx.json) return printJson(endpoints);
      if (endpoints.length === 0) return say("No webhooks. Add one with: octoctl webhook create URL");
      print(webhookTable(endpoints));
    });

  group
    .command("delete")
    .alias("rm")
    .description("delete an endpoint and its deliveries")
    .argument("<id>", "the endpoint's id")
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = context(command);
      await ctx.client.call((api) => api.webhooks({ id }).delete());
      if (ctx.json) return printJson({ id, deleted: true });
      print(`Deleted webhook ${id}.`);
    });

  group
    .command("deliveries")
    .description("recent deliveries: state, attempts, the last answer")
    .option("--limit <n>", "at most this many (default 50)")
    .action(async (options: { limit?: string }, command: Command) => {
      const ctx = context(command);
      const deliveries = await ctx.client.call((api) => api.webhooks.deliveries.get({ query: options.limit ? { limit: options.limit } : {} }));
      if (ctx.json) return printJson(deliveries);
      if (deliveries.length === 0) return say("No deliveries yet.");
      print(deliveryTable(deliveries));
    });
}
