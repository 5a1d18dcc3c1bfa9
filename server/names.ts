/**
 * Names people give things and other people read: session names (octo's) and conversation titles
 * (OpenCode's, set through the session proxy). A name must not carry characters that change how the text
 * around it is shown without being visible themselves: control characters (`\p{Cc}`), format characters
 * (`\p{Cf}`: bidi overrides and isolates such as U+202E, zero-width spaces and joiners U+200B-U+200D, the
 * word joiner, the byte-order mark, soft hyphens) and line or paragraph separators (`\p{Zl}`, `\p{Zp}`).
 * Trojan Source (CVE-2021-42574) is the attack these enable: a name that reads differently from what it is.
 */
import { z } from "zod";

/** Control characters. */
const CONTROL = /\p{Cc}/u;
/** Characters that are invisible or reorder the text around them (format characters, line separators). */
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}]/u;

/** What is wrong with `value` as a name called `field`, or null when nothing is (the character rules only). */
export function nameProblem(field: string, value: string): string | null {
  if (CONTROL.test(value)) return `${field} must not contain control characters`;
  if (INVISIBLE.test(value)) return `${field} must not contain bidi or zero-width characters`;
  return null;
}

/**
 * A trimmed name of 1 to `max` characters without invisible or control characters.
 * @param field how errors call it, e.g. "name".
 */
export function displayName(field: string, max: number) {
  return z
    .string()
    .trim()
    .min(1, `${field} must not be empty`)
    .max(max, `${field} must be at most ${max} characters`)
    .superRefine((value, ctx) => {
      const problem = nameProblem(field, value);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });
}
