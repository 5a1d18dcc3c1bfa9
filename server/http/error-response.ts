/**
 * The one place errors become HTTP responses: `{ error, code }` JSON with the error's status and headers.
 * Elysia's own errors (malformed JSON, unknown route, validation) are mapped to stable codes; anything
 * unexpected is logged and answered as a 500 without details.
 */
import { OctoError } from "../errors.ts";
import { createLogger } from "../log.ts";

const log = createLogger("http");

/** Maps whatever a handler threw (with Elysia's error `code`, when it has one) to an {@link OctoError}. */
export function normalizeError(code: string | number, error: unknown): OctoError {
  if (error instanceof OctoError) return error;
  switch (code) {
    case "PARSE":
      return new OctoError(400, "INVALID_JSON", "The request body is not valid JSON");
    case "NOT_FOUND":
      return new OctoError(404, "NOT_FOUND", "Not found");
    case "VALIDATION":
      return new OctoError(400, "VALIDATION_FAILED", "The request is not valid");
    case "INVALID_COOKIE_SIGNATURE":
      return new OctoError(400, "INVALID_COOKIE", "Invalid cookie");
  }
  const status = (error as { status?: unknown })?.status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new OctoError(status, "BAD_REQUEST", status === 413 ? "Request body too large" : "Bad request");
  }
  log.error("unhandled error", { code: String(code), error: (error as Error)?.stack ?? String(error) });
  return new OctoError(500, "INTERNAL", "Internal server error");
}

/** A JSON error response. */
export function errorResponse(error: OctoError): Response {
  return new Response(JSON.stringify(error.toJSON()), {
    status: error.status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...error.headers },
  });
}
