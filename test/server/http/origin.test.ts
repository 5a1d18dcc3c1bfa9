import { describe, expect, test } from "bun:test";
import { isSafeMethod, isSameOrigin } from "../../../server/http/origin.ts";

describe("isSameOrigin", () => {
  test("no Origin header passes (curl, octoctl, server-side clients)", () => {
    expect(isSameOrigin(undefined, "octo.example.com", [])).toBe(true);
    expect(isSameOrigin(undefined, undefined, [])).toBe(true);
  });

  test("an Origin whose host (and port) equals the Host header passes", () => {
    expect(isSameOrigin("http://127.0.0.1:8080", "127.0.0.1:8080", [])).toBe(true);
    expect(isSameOrigin("https://octo.example.com", "octo.example.com", [])).toBe(true);
    expect(isSameOrigin("https://octo.example.com", "OCTO.Example.com", [])).toBe(true);
    expect(isSameOrigin("http://[::1]:8080", "[::1]:8080", [])).toBe(true);
  });

  test("another host, another port, a look-alike and a missing Host are refused", () => {
    expect(isSameOrigin("http://evil.example", "octo.example.com", [])).toBe(false);
    expect(isSameOrigin("http://127.0.0.1:9999", "127.0.0.1:8080", [])).toBe(false);
    expect(isSameOrigin("http://octo.example.com.evil.example", "octo.example.com", [])).toBe(false);
    expect(isSameOrigin("http://evil.example", undefined, [])).toBe(false);
  });

  test('the literal "null" origin (sandboxed frames, file:) and garbage are cross-origin', () => {
    expect(isSameOrigin("null", "octo.example.com", [])).toBe(false);
    expect(isSameOrigin("not a url", "octo.example.com", [])).toBe(false);
    expect(isSameOrigin("", "octo.example.com", [])).toBe(false);
  });

  test("origins in allowed_origins pass exactly as listed", () => {
    const allowed = ["https://octo.example.com", "http://localhost:5173"];
    expect(isSameOrigin("https://octo.example.com", "10.0.0.5:8080", allowed)).toBe(true);
    expect(isSameOrigin("http://localhost:5173", undefined, allowed)).toBe(true);
    expect(isSameOrigin("http://octo.example.com", "10.0.0.5:8080", allowed)).toBe(false);
    expect(isSameOrigin("https://octo.example.com:444", "10.0.0.5:8080", allowed)).toBe(false);
  });
});

describe("isSafeMethod", () => {
  test("GET, HEAD and OPTIONS are safe; everything else (and nothing) is not", () => {
    for (const m of ["GET", "HEAD", "OPTIONS"]) expect(isSafeMethod(m)).toBe(true);
    for (const m of ["POST", "PUT", "PATCH", "DELETE", "get", "", undefined]) expect(isSafeMethod(m)).toBe(false);
  });
});
