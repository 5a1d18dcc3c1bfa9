/**
 * The service-token check shared by the file server and the terminal (common/service-auth.ts): which
 * `Authorization` headers present which secret, the digest comparison, and the 401 error. The servers'
 * own tests check it over HTTP and WebSocket (test/fileserver/security.test.ts, test/terminal/server.test.ts).
 */
import { expect, test } from "bun:test";
import { OctoError } from "../../common/errors.ts";
import { presentedToken, requireServiceToken, serviceAuthorized, tokensEqual } from "../../common/service-auth.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

test("presentedToken reads Basic passwords (user ignored, colons kept) and Bearer tokens, any case", () => {
  expect(presentedToken(`Basic ${b64("opencode:s3:cr:et")}`)).toBe("s3:cr:et");
  expect(presentedToken(`basic ${b64(":x")}`)).toBe("x");
  expect(presentedToken(`Basic ${b64("u:p\u00e4ss")}`)).toBe("p\u00e4ss");
  expect(presentedToken("Bearer tok")).toBe("tok");
  expect(presentedToken("BEARER tok ")).toBe("tok");
  expect(presentedToken("  Bearer\ttok")).toBe("tok");
});

test("presentedToken: null for missing, other schemes and malformed values", () => {
  const bad = [null, "", "Bearer", "Bearer ", "Basic", `Basic ${b64("nocolon")}`, "Digest abc", "Bearer a b", "tok", "Bearertok"];
  expect(bad.map(presentedToken)).toEqual(Array(bad.length).fill(null));
});

test("tokensEqual compares content, any lengths", () => {
  expect(tokensEqual("same", "same")).toBe(true);
  expect(tokensEqual("same", "Same")).toBe(false);
  expect(tokensEqual("short", "much longer value")).toBe(false);
  expect(tokensEqual("", "")).toBe(true);
});

test("serviceAuthorized needs the exact token, unless none is configured", () => {
  expect(serviceAuthorized("Bearer t", "t")).toBe(true);
  expect(serviceAuthorized(`Basic ${b64("opencode:t")}`, "t")).toBe(true);
  expect(serviceAuthorized("Bearer t2", "t")).toBe(false);
  expect(serviceAuthorized("Bearer ", "t")).toBe(false);
  expect(serviceAuthorized(null, "t")).toBe(false);
  expect(serviceAuthorized(null, undefined)).toBe(true);
  expect(serviceAuthorized("Bearer anything", "")).toBe(true);
});

test("requireServiceToken throws 401 UNAUTHORIZED with WWW-Authenticate: Bearer", () => {
  expect(() => requireServiceToken("Bearer t", "t")).not.toThrow();
  let caught: unknown;
  try {
    requireServiceToken("Bearer wrong", "t");
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(OctoError);
  const err = caught as OctoError;
  expect([err.status, err.code, err.message, err.headers]).toEqual([
    401,
    "UNAUTHORIZED",
    "Missing or wrong service token",
    { "WWW-Authenticate": "Bearer" },
  ]);
});
