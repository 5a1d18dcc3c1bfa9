import { describe, expect, test } from "bun:test";
import { badRequest, clip, conflict, forbidden, notFound, OctoError, toOctoError, unauthorized } from "../../common/errors.ts";
import { errorResponse, normalizeError, rejectUpgrade } from "../../server/http/error-response.ts";

describe("OctoError", () => {
  test("carries status, code, message and headers; serialises to { error, code }", () => {
    const err = new OctoError(429, "TOO_MANY", "slow down", { "Retry-After": "3" });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("OctoError");
    expect([err.status, err.code, err.message, err.headers]).toEqual([429, "TOO_MANY", "slow down", { "Retry-After": "3" }]);
    expect(JSON.parse(JSON.stringify(err))).toEqual({ error: "slow down", code: "TOO_MANY" });
  });

  test("helpers map to their statuses and default codes", () => {
    expect([badRequest("x").status, badRequest("x").code]).toEqual([400, "BAD_REQUEST"]);
    expect([unauthorized().status, unauthorized().code, unauthorized().message]).toEqual([401, "UNAUTHORIZED", "Authentication required"]);
    expect([forbidden().status, forbidden().code]).toEqual([403, "FORBIDDEN"]);
    expect([notFound().status, notFound().code]).toEqual([404, "NOT_FOUND"]);
    expect([conflict("c", "LIMIT").status, conflict("c", "LIMIT").code]).toEqual([409, "LIMIT"]);
  });

  test("toOctoError keeps OctoErrors and hides anything else behind a 500", () => {
    const known = notFound();
    expect(toOctoError(known)).toBe(known);
    const hidden = toOctoError(new Error("password=hunter2 leaked"));
    expect(hidden.toJSON()).toEqual({ error: "Internal server error", code: "INTERNAL" });
    expect(toOctoError("weird").status).toBe(500);
  });

  test("clip flattens control whitespace and shortens long values", () => {
    expect(clip("a\nb\tc\rd")).toBe("a b c d");
    expect(clip(undefined)).toBe("");
    expect(clip(null)).toBe("");
    expect(clip("x".repeat(100))).toBe(`${"x".repeat(80)}…`);
    expect(clip("abcdef", 3)).toBe("abc…");
    expect(clip("abc", 3)).toBe("abc");
  });
});

describe("normalizeError / errorResponse", () => {
  test("maps Elysia's error codes to stable codes", () => {
    expect(normalizeError("PARSE", new Error("x")).toJSON()).toEqual({ error: "The request body is not valid JSON", code: "INVALID_JSON" });
    expect(normalizeError("NOT_FOUND", null).status).toBe(404);
    expect(normalizeError("VALIDATION", new Error("x")).code).toBe("VALIDATION_FAILED");
    expect(normalizeError("INVALID_COOKIE_SIGNATURE", new Error("x")).code).toBe("INVALID_COOKIE");
  });

  test("keeps OctoErrors, turns other 4xx statuses into BAD_REQUEST and the rest into a detail-free 500", () => {
    const own = new OctoError(409, "X", "y");
    expect(normalizeError("UNKNOWN", own)).toBe(own);
    expect(normalizeError("UNKNOWN", { status: 413 }).toJSON()).toEqual({ error: "Request body too large", code: "BAD_REQUEST" });
    expect(normalizeError("UNKNOWN", { status: 418 }).status).toBe(418);
    const original = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(normalizeError("UNKNOWN", new Error("secret detail")).toJSON()).toEqual({ error: "Internal server error", code: "INTERNAL" });
      expect(normalizeError("UNKNOWN", { status: 200 }).status).toBe(500);
    } finally {
      process.stderr.write = original;
    }
  });

  test("an unexpected error is logged once, with the request id, however often it is normalised", () => {
    const lines: string[] = [];
    const original = process.stderr.write;
    process.stderr.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      const error = new Error("boom");
      expect(normalizeError("UNKNOWN", error, "req-42").code).toBe("INTERNAL");
      expect(normalizeError("UNKNOWN", error, "req-42").code).toBe("INTERNAL");
      expect(normalizeError("UNKNOWN", new OctoError(400, "X", "expected"), "req-43").code).toBe("X");
    } finally {
      process.stderr.write = original;
    }
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain("unhandled error request=req-42");
  });

  test("answers carry the request id, and refused upgrades take their reason phrase from STATUS_CODES", async () => {
    const res = errorResponse(new OctoError(418, "TEAPOT", "short and stout"), "req-7");
    expect([res.status, res.headers.get("x-request-id")]).toEqual([418, "req-7"]);
    let written = "";
    const socket = { destroyed: false, end: (text: string) => (written = text), destroy: () => undefined } as unknown as import("node:stream").Duplex;
    rejectUpgrade(socket, new OctoError(426, "UPGRADE_REQUIRED", "use a WebSocket"), "req-8");
    expect(written).toStartWith("HTTP/1.1 426 Upgrade Required\r\n");
    expect(written).toContain("x-request-id: req-8\r\n");
    expect(written.slice(written.indexOf("\r\n\r\n") + 4)).toBe('{"error":"use a WebSocket","code":"UPGRADE_REQUIRED"}');
  });

  test("errorResponse is JSON with the status, no-store and the error's headers", async () => {
    const res = errorResponse(new OctoError(429, "TOO_MANY_ATTEMPTS", "wait", { "Retry-After": "7" }));
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("retry-after")).toBe("7");
    expect(await res.json()).toEqual({ error: "wait", code: "TOO_MANY_ATTEMPTS" });
  });
});
