/**
 * The pieces every route of octo's HTTP API declares its contract with. A route's `body`, `query` and
 * `response` are zod schemas on the Elysia route itself: Elysia validates the request with them before the
 * handler runs (a failure is 400 `VALIDATION_FAILED` naming the field, http/validate.ts) and the answer
 * after it (a mismatch is a 500 and a bug, logged), the OpenAPI document at `/api/docs` is generated from
 * them (api/openapi.ts), and the typed client of the web app and octoctl is derived from their types
 * (api/client.ts). Declaring a route:
 *
 * ```ts
 * .post("/:id/stop", ({ user, params }) => sessions.stop(user, params.id), {
 *   auth: true,                                     // 401 and 403 come with the macro (http/auth-plugin.ts)
 *   body: SomeBody,                                  // zod, from the module's model.ts
 *   query: SomeQuery,
 *   response: { 200: Session, ...errors({ 404: "SESSION_NOT_FOUND" }) },
 *   detail: route("sessions", "Stop a session", "Its workspace is kept."),
 * })
 * ```
 *
 * Every error answer is `{ error, code }` ({@link ErrorBody}); a route lists the statuses it can fail with
 * and the codes behind them with {@link errors}, which adds 500 `INTERNAL` to every route.
 */
import { z } from "zod";

/** Every error answer of the API, the proxies and refused upgrades (common/errors.ts `OctoError.toJSON`). */
export const ErrorBody = z.object({
  error: z.string().describe("What went wrong, a sentence safe to show to the user"),
  code: z.string().describe("A stable UPPER_SNAKE_CASE code to branch on, e.g. SESSION_NOT_FOUND"),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * The answer of a 204: no body (RFC 9110 §15.3.5). Handlers set `set.status = 204` and return nothing;
 * api/openapi.ts documents it without content. (`z.undefined()` alone has no JSON Schema, so the
 * generator would leave the 204 out.)
 */
export const NoContent = z.null().optional().describe("No content");

/** What 500 means on every route. */
const INTERNAL = "INTERNAL: a bug or an unexpected failure, logged with the request id";

/**
 * The error answers of a route: status -> the codes it answers with there (and why), e.g.
 * `errors({ 404: "SESSION_NOT_FOUND", 409: "SESSION_LIMIT: at most [runtime] max_sessions_per_user" })`.
 * 500 `INTERNAL` is always added (after the route's own 500 codes, if any). Spread it into the route's
 * `response`.
 */
export function errors<const S extends Record<number, string>>(codes: S): { [K in keyof S | 500]: typeof ErrorBody } {
  const out: Record<number, typeof ErrorBody> = {};
  const all: Record<number, string> = { ...codes, 500: 500 in codes ? `${codes[500]}; ${INTERNAL}` : INTERNAL };
  for (const [status, text] of Object.entries(all)) out[Number(status)] = ErrorBody.describe(text);
  return out as { [K in keyof S | 500]: typeof ErrorBody };
}

/** 400 of a route that validates a body or query. */
export const INVALID_INPUT = "VALIDATION_FAILED (the message names the field and the rule), INVALID_JSON";

/**
 * The `detail` of a route in the OpenAPI document: its group (tag), a one-line summary and optionally more.
 * `operationId`s are derived from method and path by the plugin (e.g. `postApiSessionsByIdStop`).
 */
export function route(tag: string, summary: string, description?: string) {
  return { tags: [tag], summary, ...(description ? { description } : {}) };
}

/**
 * A yes/no query flag as octo has always read them: "true" or "1" is yes, anything else (or nothing) no
 * ({@link isYes}). Request schemas have no transforms: the typed client (api/client.ts) is typed with what
 * a schema gives the handler, which must then be what the client sends.
 * @param description what yes means.
 */
export function queryFlag(description: string) {
  return z.string().optional().describe(`"true" or "1": ${description}`);
}

/** Whether a {@link queryFlag} says yes. */
export const isYes = (value: string | undefined) => value === "true" || value === "1";

/** A time in answers: ISO 8601 in UTC, e.g. "2026-12-01T10:00:00.000Z" (`Date.prototype.toISOString`). */
export const IsoTime = z.iso.datetime().describe("ISO 8601 time, UTC");

/**
 * A time as the database keeps it (ms since the epoch) in the form answers give it ({@link IsoTime});
 * null (never happened, no limit) stays null.
 */
export function isoTime(ms: number): string;
export function isoTime(ms: number | null): string | null;
export function isoTime(ms: number | null): string | null {
  return ms == null ? null : new Date(ms).toISOString();
}

/**
 * The columns of a stored row that an answer shows as they are, by name: a whitelist, so a column added to
 * the table later (a secret, a hash) stays out of answers until a model names it.
 */
export function pick<T extends object, K extends keyof T>(row: T, keys: readonly K[]): Pick<T, K> {
  const shown = {} as Pick<T, K>;
  for (const key of keys) shown[key] = row[key];
  return shown;
}
