/**
 * One typed error for the whole server (pattern: code-server `HttpError`, OpenCode `NamedError`).
 *
 * Services throw `OctoError` with a stable machine-readable `code` and an HTTP `status`; exactly one place
 * (the Elysia `onError` hook and the proxy's error handler) turns it into `{ error, code }` JSON.
 * Messages must not contain secrets; user-supplied strings are truncated with {@link clip}.
 */
export class OctoError extends Error {
  /**
   * @param status HTTP status the error maps to (4xx for caller mistakes, 5xx for ours).
   * @param code stable UPPER_SNAKE identifier clients can branch on, e.g. `INVALID_CREDENTIALS`.
   * @param message human-readable sentence, safe to show to the user.
   * @param headers extra response headers, e.g. `{ "Retry-After": "2" }`.
   */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "OctoError";
  }

  /** The JSON body every error response carries. */
  toJSON(): ErrorBody {
    return { error: this.message, code: this.code };
  }
}

/** Shape of every error response body: `{ error: "human sentence", code: "MACHINE_CODE" }`. */
export interface ErrorBody {
  error: string;
  code: string;
}

export const badRequest = (message: string, code = "BAD_REQUEST") => new OctoError(400, code, message);
export const unauthorized = (message = "Authentication required", code = "UNAUTHORIZED") =>
  new OctoError(401, code, message);
export const forbidden = (message = "Forbidden", code = "FORBIDDEN") => new OctoError(403, code, message);
export const notFound = (message = "Not found", code = "NOT_FOUND") => new OctoError(404, code, message);
export const conflict = (message: string, code = "CONFLICT") => new OctoError(409, code, message);

/** Turns anything thrown into an {@link OctoError}; unknown errors become a 500 without leaking details. */
export function toOctoError(err: unknown): OctoError {
  if (err instanceof OctoError) return err;
  return new OctoError(500, "INTERNAL", "Internal server error");
}

/**
 * Shortens a user-supplied string before it goes into a log line or an error message.
 * @param value any string (may be undefined).
 * @param max maximum length in characters (default 80); longer values end with "…".
 */
export function clip(value: string | undefined | null, max = 80): string {
  if (value == null) return "";
  const flat = value.replace(/[\r\n\t]/g, " ");
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
