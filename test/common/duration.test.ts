import { describe, expect, test } from "bun:test";
import { parseDuration, parseTime } from "../../common/duration.ts";

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

describe("parseTime", () => {
  const now = Date.parse("2026-12-01T12:00:00Z");

  test.each([
    ["2026-11-30", Date.parse("2026-11-30T00:00:00Z")],
    ["2026-11-30T10:15:00Z", Date.parse("2026-11-30T10:15:00Z")],
    ["2026-11-30T10:15:30.250+01:00", Date.parse("2026-11-30T09:15:30.250Z")],
    ["2026-11-30T10:15Z", Date.parse("2026-11-30T10:15:00Z")],
    ["7d", now - 7 * 86_400_000],
    ["90m", now - 90 * 60_000],
    [" 1h ", now - 3_600_000],
  ])("%p is %p", (text, ms) => {
    expect(parseTime(text, now)).toBe(ms);
  });

  test.each(["", "yesterday", "2026-11-30T10:15:00", "2026-13-45", "30/11/2026", "-7d", "0", "7x", "1e3"])(
    "%p is refused naming the input and both accepted forms",
    (text) => {
      expect(() => parseTime(text, now)).toThrow(`invalid time ${JSON.stringify(text)}: expected an ISO 8601 date or date-time with a zone`);
    },
  );
});
