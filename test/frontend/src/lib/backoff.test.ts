import { describe, expect, test } from "bun:test";
import { Backoff } from "../../../../frontend/src/lib/backoff.ts";

describe("Backoff", () => {
  test("ceiling doubles per attempt up to the cap", () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1000, minMs: 0, random: () => 0.999999 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(b.attempts).toBe(6);
  });

  test("jitter stays within [min, ceiling]", () => {
    const b = new Backoff({ baseMs: 1000, maxMs: 8000, minMs: 250, random: () => 0 });
    expect(b.next()).toBe(250);
    const half = new Backoff({ baseMs: 1000, maxMs: 8000, minMs: 250, random: () => 0.5 });
    expect([half.next(), half.next(), half.next()]).toEqual([500, 1000, 2000]);
  });

  test("reset starts again from the base", () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1000, minMs: 0, random: () => 0.999999 });
    b.next();
    b.next();
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(100);
  });
});
