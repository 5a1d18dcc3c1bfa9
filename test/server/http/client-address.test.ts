import { describe, expect, test } from "bun:test";
import { clientAddress, setClientAddress } from "../../../server/http/client-address.ts";

describe("client address", () => {
  test("is remembered per Request object and cannot be spoofed by headers", () => {
    const a = new Request("http://x/", { headers: { "x-forwarded-for": "6.6.6.6" } });
    const b = new Request("http://x/");
    setClientAddress(a, "10.0.0.1");
    expect(clientAddress(a)).toBe("10.0.0.1");
    expect(clientAddress(b)).toBe("unknown");
    setClientAddress(b, undefined);
    expect(clientAddress(b)).toBe("unknown");
  });
});
