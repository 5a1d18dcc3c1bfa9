import { describe, expect, test } from "bun:test";
import { requestId, setRequestId } from "../../../server/http/request-id.ts";

describe("requestId", () => {
  test("keeps a sane X-Request-Id, replaces anything that could forge log fields, and is stable per request", () => {
    expect(requestId(new Request("http://localhost/", { headers: { "x-request-id": "lb-1234.abc:9" } }))).toBe("lb-1234.abc:9");
    for (const bad of ["a b", "x=1", "x".repeat(65), "a\"b", ""]) {
      const id = requestId(new Request("http://localhost/", { headers: { "x-request-id": bad } }));
      expect(id).toMatch(/^[a-z0-9]{16}$/);
    }
    const request = new Request("http://localhost/");
    expect(requestId(request)).toBe(requestId(request));
    expect(requestId(new Request("http://localhost/"))).not.toBe(requestId(request));
  });

  test("setRequestId carries the node request's id into the Fetch request", () => {
    const request = new Request("http://localhost/");
    setRequestId(request, "from-node");
    expect(requestId(request)).toBe("from-node");
  });
});
