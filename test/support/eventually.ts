/**
 * Waiting for a condition in tests: the one polling helper shared by unit and end-to-end suites.
 */

/**
 * Polls `check` until it returns a truthy value and resolves with that value.
 * @param what what is awaited, for the error message.
 * @param timeoutMs give up after this many ms (default 5000) and throw `timed out after N ms waiting for <what>`.
 * @param intervalMs delay between checks, ms (default 20).
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 5000,
  intervalMs = 20,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(intervalMs);
  }
}
