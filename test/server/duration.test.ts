import { describe, expect, test } from "bun:test";
import { parseDuration } from "../../server/duration.ts";

describe("parseDuration", () => {
  test.each([
    ["90s", 90],
    ["15m", 900],
    ["12h", 43_200],
    ["7d", 604_800],
    ["2w", 1_209_600],
    ["45", 45],
    ["1.5h", 5400],
    ["0.5m", 30],
    [" 3 d ", 259_200],
    ["7D", 604_800],
    ["1.0004s", 1],
  ])("%p is %p seconds", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  test.each(["", "   ", "abc", "7x", "d", "-5m", "0", "0s", "0.4s", "1e3", "7d2h", "5 minutes", "1,5h", "NaN", "Infinity", "+5s"])(
    "%p is refused with a message naming the input and the expected form",
    (text) => {
      expect(() => parseDuration(text)).toThrow(`invalid duration ${JSON.stringify(text)}: expected a number with a unit s, m, h, d or w (e.g. 7d)`);
    },
  );
});
