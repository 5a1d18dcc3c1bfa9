/**
 * Request input failures as octo answers them: a 400 `{ error, code: "VALIDATION_FAILED" }` whose message
 * names the field and the rule, e.g. "username: username must be at least 3 characters". Routes declare
 * their body and query as zod schemas (api/contract.ts) and Elysia validates them; its `ValidationError`
 * reaches {@link validationFailure} through the app's error handler (http/error-response.ts).
 */
import type { z } from "zod";
import { badRequest, type OctoError } from "../../common/errors.ts";

/** The 400 naming the first issue of a failed parse. */
function failureOf(error: z.ZodError): OctoError {
  const issue = error.issues[0]!;
  const field = issue.path.join(".");
  const message =
    issue.code === "unrecognized_keys"
      ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`
      : issue.code === "invalid_type" && issue.input === undefined && field
        ? `${field} is required`
        : issue.message;
  return badRequest(field && !message.startsWith(field) ? `${field}: ${message}` : message, "VALIDATION_FAILED");
}

/** The 400 for `input` (a missing body counts as `{}`) against `schema`, or null when it passes. */
export function inputFailure(schema: z.ZodType, input: unknown): OctoError | null {
  const result = schema.safeParse(input ?? {}, { reportInput: true });
  return result.success ? null : failureOf(result.error);
}

/**
 * Parses input with a zod schema (for input a route reads itself).
 * @throws OctoError 400 VALIDATION_FAILED as described in the module doc.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input ?? {}, { reportInput: true });
  if (result.success) return result.data;
  throw failureOf(result.error);
}

/** What Elysia's `ValidationError` carries: where it failed, the validator (wrapping the route's schema) and the value. */
export interface ElysiaValidation {
  type: string;
  validator: unknown;
  value: unknown;
  message: string;
}

/** The zod schema behind an Elysia validator, when it is one. */
function zodSchemaOf(validator: unknown): z.ZodType | null {
  // Elysia wraps a Standard Schema in a validator of its own (which has a `safeParse` too) under `schema`.
  const candidates = [(validator as { schema?: unknown } | null)?.schema, validator];
  for (const c of candidates) if (c && typeof c === "object" && "_zod" in c) return c as z.ZodType;
  return null;
}

/**
 * The 400 for a request Elysia refused against a route's schema (`type` body, query, params, headers or
 * cookie), worded by {@link inputFailure}.
 */
export function validationFailure(error: ElysiaValidation): OctoError {
  const schema = zodSchemaOf(error.validator);
  return (schema && inputFailure(schema, error.value)) ?? badRequest(`The request ${error.type} is not valid`, "VALIDATION_FAILED");
}
