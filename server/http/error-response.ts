/**
 * The one place errors become answers: `{ error, code }` JSON with the error's status and headers, rendered
 * as a Fetch `Response` (the Elysia app), on a node `ServerResponse` (the proxies, the node front) or as a
 * plain HTTP answer on the socket of a refused WebSocket upgrade. Every answer carries `Cache-Control:
 * no-store` and, when known, the request's `X-Request-Id`. Status lines take their reason phrase from
 * node:http's `STATUS_CODES`.
 *
 * Elysia's own errors (malformed JSON, unknown route, validation) are mapped to stable codes: a request
 * refused by a route's schema is 400 VALIDATION_FAILED naming the field (http/validate.ts). Anything
 * unexpected (not an {@link OctoError}, or an answer that does not match the route's response schema) is
 * logged here, once per error object, with the request id, and answered as a 500 without details.
 */
import { type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { OctoError } from "../../common/errors.ts";
import { createLogger } from "../../common/log.ts";
import { setUpgradeStatus } from "./access-log.ts";
import { type ElysiaValidation, validationFailure } from "./validate.ts";

const log = createLogger("http");

/** Errors already logged (an error can pass through more than one handler). */
const logged = new WeakSet<object>();

/**
 * Maps whatever a handler threw (with Elysia's error `code`, when it has one) to an {@link OctoError}.
 * @param requestId the request's id, named in the log line of an unexpected error.
 */
export function normalizeError(code: string | number, error: unknown, requestId?: string): OctoError {
  if (error instanceof OctoError) return error;
  // An OctoError thrown by an `onParse` hook reaches onError wrapped in Elysia's ParseError.
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (code === "PARSE" && cause instanceof OctoError) return cause;
  switch (code) {
    case "PARSE":
      return new OctoError(400, "INVALID_JSON", "The request body is not valid JSON");
    case "NOT_FOUND":
      return new OctoError(404, "NOT_FOUND", "Not found");
    case "VALIDATION": {
      const failure = validationFailure(error as ElysiaValidation);
      if ((error as ElysiaValidation).type !== "response") return failure;
      // A handler's answer that breaks its route's contract is octo's bug. The log names the field and the
      // rule, never the value (an answer may hold a token).
      return unexpected(code, error, `the answer does not match the route's response schema: ${failure.message}`, requestId);
    }
    case "INVALID_COOKIE_SIGNATURE":
      return new OctoError(400, "INVALID_COOKIE", "Invalid cookie");
  }
  const status = (error as { status?: unknown })?.status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new OctoError(status, "BAD_REQUEST", status === 413 ? "Request body too large" : "Bad request");
  }
  return unexpected(code, error, (error as Error)?.stack ?? String(error), requestId);
}

/** Logs an unexpected error once (described as `detail`) and gives the 500 that answers it. */
function unexpected(code: string | number, error: unknown, detail: string, requestId: string | undefined): OctoError {
  const key = typeof error === "object" && error !== null ? error : null;
  if (!key || !logged.has(key)) {
    if (key) logged.add(key);
    log.error("unhandled error", { request: requestId, code: String(code), error: detail });
  }
  return new OctoError(500, "INTERNAL", "Internal server error");
}

function headersOf(error: OctoError, requestId: string | undefined, length: number): Record<string, string> {
  return {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(length),
    "cache-control": "no-store",
    ...(requestId ? { "x-request-id": requestId } : {}),
    ...error.headers,
  };
}

/** A JSON error response (Fetch). */
export function errorResponse(error: OctoError, requestId?: string): Response {
  const body = JSON.stringify(error.toJSON());
  return new Response(body, { status: error.status, headers: headersOf(error, requestId, Buffer.byteLength(body)) });
}

/** Writes the error on a node response; a response whose headers already went out is cut instead. */
export function sendError(res: ServerResponse, error: OctoError, requestId?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(error.toJSON());
  res.writeHead(error.status, headersOf(error, requestId, Buffer.byteLength(body)));
  res.end(body);
}

/** Answers a refused upgrade with a plain HTTP response carrying `{ error, code }`, then closes the socket. */
export function rejectUpgrade(socket: Duplex, error: OctoError, requestId?: string): void {
  if (socket.destroyed) return;
  setUpgradeStatus(socket, error.status);
  const body = JSON.stringify(error.toJSON());
  const headers = Object.entries(headersOf(error, requestId, Buffer.byteLength(body)))
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.end(`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? "Error"}\r\n${headers}connection: close\r\n\r\n${body}`);
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * Answers `err` on whatever the request came with: a node response, or the socket of an upgrade.
 * Unexpected errors are logged (see {@link normalizeError}).
 */
export function replyError(to: ServerResponse | Duplex, err: unknown, requestId: string): void {
  const error = normalizeError("UNKNOWN", err, requestId);
  if (isServerResponse(to)) sendError(to, error, requestId);
  else rejectUpgrade(to, error, requestId);
}

/** Whether `value` is a node `ServerResponse` (http-proxy-3's error event gives a response or a socket). */
export function isServerResponse(value: unknown): value is ServerResponse {
  return typeof (value as ServerResponse)?.writeHead === "function";
}
