import { describe, expect, test } from "bun:test";
import { type SseMessage, SseParser } from "../../../../frontend/src/lib/sse.ts";

function parse(chunks: string[]): SseMessage[] {
  const out: SseMessage[] = [];
  const p = new SseParser((m) => out.push(m));
  for (const c of chunks) p.feed(c);
  return out;
}

describe("SseParser", () => {
  test("data-only events as OpenCode sends them", () => {
    const out = parse(['data: {"type":"server.connected","properties":{}}\n\n', 'data: {"a":1}\n\n']);
    expect(out.map((m) => JSON.parse(m.data))).toEqual([{ type: "server.connected", properties: {} }, { a: 1 }]);
    expect(out[0]!.event).toBe("message");
  });

  test("events split at every possible byte boundary give the same result", () => {
    const text = 'data: {"x":"héllo"}\r\n\r\nevent: ping\ndata: a\ndata: b\n\n: comment\n\ndata:c\r\rid: 7\ndata: d\n\n';
    const whole = parse([text]);
    expect(whole.map((m) => [m.event, m.data])).toEqual([
      ["message", '{"x":"héllo"}'],
      ["ping", "a\nb"],
      ["message", "c"],
      ["message", "d"],
    ]);
    expect(whole[3]!.id).toBe("7");
    for (let i = 1; i < text.length; i++) {
      expect(parse([text.slice(0, i), text.slice(i)])).toEqual(whole);
    }
    expect(parse([...text])).toEqual(whole);
  });

  test("retry field, field without colon, and an unterminated event is not dispatched", () => {
    const out = parse(["retry: 1500\ndata\n\n", "data: never"]);
    expect(out).toEqual([{ event: "message", data: "", retry: 1500 }]);
  });
});
