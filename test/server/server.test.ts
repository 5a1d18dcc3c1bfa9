import { describe, expect, test } from "bun:test";
import type { IncomingMessage } from "node:http";
import { clientAddressOf } from "../../server/server.ts";

const req = (forwarded: string | undefined, peer = "10.0.0.5") =>
  ({ headers: forwarded === undefined ? {} : { "x-forwarded-for": forwarded }, socket: { remoteAddress: peer } }) as unknown as IncomingMessage;

describe("clientAddressOf", () => {
  test("without trust_proxy the socket peer counts, whatever the headers say", () => {
    expect(clientAddressOf(req("1.2.3.4"), false)).toBe("10.0.0.5");
  });
  test("with trust_proxy the entry the proxy appended counts, not what the client forged before it", () => {
    expect(clientAddressOf(req("6.6.6.6, 203.0.113.9"), true)).toBe("203.0.113.9");
    expect(clientAddressOf(req(undefined), true)).toBe("10.0.0.5");
  });
});
