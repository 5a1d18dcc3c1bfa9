/**
 * Parses request input with a zod schema and turns failures into a 400 `{ error, code: "VALIDATION_FAILED" }`
 * whose message names the field and the rule, e.g. "username: username must be at least 3 characters".
 */
import type { z } from "zod";
import { badRequest } from "../errors.ts";

export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join(".");
  const message =
    issue.code === "unrecognized_keys"
      ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`
      : issue.code === "invalid_type" && issue.input === undefined && field
        ? `${field} is required`
        : issue.message;
  throw badRequest(field && !message.startsWith(field) ? `${field}: ${message}` : message, "VALIDATION_FAILED");
}
