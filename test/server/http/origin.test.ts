import { describe, expect, test } from "bun:test";
import { isSafeMethod, isSameOrigin, isSameSite, type SitePolicy, siteScheme } from "../../../server/http/origin.ts";

const http = (host: string | undefined) => ({ scheme: "http:", host });
const https = (host: string | undefined) => ({ scheme: "https:", host });

describe("isSameOrigin", () => {
  test("no Origin header passes (curl, octoctl, server-side clients)", () => {
    expect(isSameOrigin(undefined, http("octo.example.com"), [])).toBe(true);
    expect(isSameOrigin(undefined, http(undefined), [])).toBe(true);
  });

  test("an Origin whose scheme, host and port equal octo's passes", () => {
    expect(isSameOrigin("http://127.0.0.1:8080", http("127.0.0.1:8080"), [])).toBe(true);
    expect(isSameOrigin("https://octo.example.com", https("octo.example.com"), [])).toBe(true);
    expect(isSameOrigin("https://octo.example.com", https("OCTO.Example.com"), [])).toBe(true);
    expect(isSameOrigin("http://[::1]:8080", http("[::1]:8080"), [])).toBe(true);
    // A default port written out in Host is the same origin.
    expect(isSameOrigin("http://octo.example.com", http("octo.example.com:80"), [])).toBe(true);
  });

  test("another scheme on the same host and port is another origin", () => {
    expect(isSameOrigin("https://127.0.0.1:8080", http("127.0.0.1:8080"), [])).toBe(false);
    expect(isSameOrigin("https://octo.example.com", http("octo.example.com"), [])).toBe(false);
    expect(isSameOrigin("http://octo.example.com", https("octo.example.com"), [])).toBe(false);
  });

  test("another host, another port, a look-alike and a missing Host are refused", () => {
    expect(isSameOrigin("http://evil.example", http("octo.example.com"), [])).toBe(false);
    expect(isSameOrigin("http://127.0.0.1:9999", http("127.0.0.1:8080"), [])).toBe(false);
    expect(isSameOrigin("http://octo.example.com.evil.example", http("octo.example.com"), [])).toBe(false);
    expect(isSameOrigin("http://evil.example", http(undefined), [])).toBe(false);
    expect(isSameOrigin("http://octo.example.com", http("octo.example.com/evil"), [])).toBe(false);
  });

  test('the literal "null" origin (sandboxed frames, file:) and garbage are cross-origin', () => {
    expect(isSameOrigin("null", http("octo.example.com"), [])).toBe(false);
    expect(isSameOrigin("not a url", http("octo.example.com"), [])).toBe(false);
    expect(isSameOrigin("", http("octo.example.com"), [])).toBe(false);
  });

  test("origins in allowed_origins pass exactly as listed", () => {
    const allowed = ["https://octo.example.com", "http://localhost:5173"];
    expect(isSameOrigin("https://octo.example.com", http("10.0.0.5:8080"), allowed)).toBe(true);
    expect(isSameOrigin("http://localhost:5173", http(undefined), allowed)).toBe(true);
    expect(isSameOrigin("http://octo.example.com", http("10.0.0.5:8080"), allowed)).toBe(false);
    expect(isSameOrigin("https://octo.example.com:444", http("10.0.0.5:8080"), allowed)).toBe(false);
  });
});

describe("siteScheme and isSameSite", () => {
  const direct: SitePolicy = { allowedOrigins: [], trustProxy: false, secureCookies: false };
  const none = { origin: undefined, host: "octo.test", secFetchSite: undefined, forwardedProto: undefined };

  test("http by default, https with secure_cookies, X-Forwarded-Proto only with trust_proxy", () => {
    expect(siteScheme({ forwardedProto: "https" }, direct)).toBe("http:");
    expect(siteScheme({ forwardedProto: undefined }, { ...direct, secureCookies: true })).toBe("https:");
    expect(siteScheme({ forwardedProto: "https, http" }, { ...direct, trustProxy: true })).toBe("https:");
    expect(siteScheme({ forwardedProto: "gopher" }, { ...direct, trustProxy: true })).toBe("http:");
  });

  test("without Origin, Sec-Fetch-Site: cross-site is refused and everything else passes", () => {
    expect(isSameSite(none, direct)).toBe(true);
    expect(isSameSite({ ...none, secFetchSite: "cross-site" }, direct)).toBe(false);
    expect(isSameSite({ ...none, secFetchSite: "Cross-Site" }, direct)).toBe(false);
    for (const value of ["same-origin", "same-site", "none"]) expect(isSameSite({ ...none, secFetchSite: value }, direct)).toBe(true);
  });

  test("with Origin, the origin decides (a same-origin Origin passes even when Sec-Fetch-Site disagrees)", () => {
    expect(isSameSite({ ...none, origin: "http://octo.test" }, direct)).toBe(true);
    expect(isSameSite({ ...none, origin: "https://octo.test" }, direct)).toBe(false);
    expect(isSameSite({ ...none, origin: "https://octo.test", forwardedProto: "https" }, { ...direct, trustProxy: true })).toBe(true);
    expect(isSameSite({ ...none, origin: "http://evil.example", secFetchSite: "same-origin" }, direct)).toBe(false);
  });
});

describe("isSafeMethod", () => {
  test("GET, HEAD and OPTIONS are safe; everything else (and nothing) is not", () => {
    for (const m of ["GET", "HEAD", "OPTIONS"]) expect(isSafeMethod(m)).toBe(true);
    for (const m of ["POST", "PUT", "PATCH", "DELETE", "get", "", undefined]) expect(isSafeMethod(m)).toBe(false);
  });
});
