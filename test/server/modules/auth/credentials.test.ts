import { describe, expect, test } from "bun:test";
import {
  clearedTokenCookie,
  COOKIE_NAME,
  extractToken,
  readCookie,
  stripTokenCookie,
  tokenCookie,
} from "../../../../server/modules/auth/credentials.ts";

const headers = (h: Record<string, string>) => (name: string) => h[name];

describe("extractToken", () => {
  test("order: Bearer, then the octo_token cookie, then ?token= only when allowed", () => {
    const all = headers({ authorization: "Bearer b-token", cookie: "octo_token=c-token" });
    expect(extractToken(all, "token=q-token", true)).toEqual({ token: "b-token", source: "bearer" });
    const cookieAndQuery = headers({ cookie: "other=1; octo_token=c-token" });
    expect(extractToken(cookieAndQuery, "?token=q-token", true)).toEqual({ token: "c-token", source: "cookie" });
    expect(extractToken(headers({}), "?token=q-token", true)).toEqual({ token: "q-token", source: "query" });
    expect(extractToken(headers({}), "a=1&token=q-token", true)).toEqual({ token: "q-token", source: "query" });
  });

  test("the query is ignored when not allowed (plain HTTP API calls)", () => {
    expect(extractToken(headers({}), "token=q-token", false)).toBeNull();
    expect(extractToken(headers({}), "", true)).toBeNull();
    expect(extractToken(headers({}), "?token=", true)).toBeNull();
    expect(extractToken(headers({}), "?tokens=x&xtoken=y", true)).toBeNull();
  });

  test("other authorization schemes and other cookies are not tokens", () => {
    expect(extractToken(headers({ authorization: "Basic b3BlbmNvZGU6eA==" }), "", false)).toBeNull();
    expect(extractToken(headers({ authorization: "Basic x", cookie: "octo_token=c" }), "", false)).toEqual({ token: "c", source: "cookie" });
    expect(extractToken(headers({ cookie: "octo_token_old=x; xocto_token=y" }), "", false)).toBeNull();
    expect(extractToken(headers({ cookie: "octo_token=" }), "", false)).toBeNull();
  });

  test("a Bearer value is trimmed", () => {
    expect(extractToken(headers({ authorization: "Bearer   abc  " }), "", false)).toEqual({ token: "abc", source: "bearer" });
  });
});

describe("readCookie", () => {
  test("finds a cookie among others, trimming and URL-decoding", () => {
    expect(readCookie("a=1; octo_token=x%2Ey; b=2", COOKIE_NAME)).toBe("x.y");
    expect(readCookie("  octo_token = spaced ", COOKIE_NAME)).toBe("spaced");
    expect(readCookie("a=1;b=2", "b")).toBe("2");
    expect(readCookie("v=a=b=c", "v")).toBe("a=b=c");
  });

  test("absent, malformed and undecodable values", () => {
    expect(readCookie(undefined, COOKIE_NAME)).toBeNull();
    expect(readCookie("", COOKIE_NAME)).toBeNull();
    expect(readCookie("novalue; other=1", "novalue")).toBeNull();
    expect(readCookie("x=%E0%A4%A", "x")).toBe("%E0%A4%A"); // bad escape: raw value
    expect(readCookie("first=1; first=2", "first")).toBe("1");
  });
});

describe("token cookies", () => {
  test("tokenCookie: HttpOnly, SameSite=Lax, Path=/, Max-Age; Secure only when asked", () => {
    const plain = tokenCookie("tok", 86400, false);
    expect(plain).toBe("octo_token=tok; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400");
    expect(plain).not.toContain("Secure");
    const secure = tokenCookie("tok", 60, true);
    expect(secure.split("; ")).toEqual(["octo_token=tok", "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=60", "Secure"]);
  });

  test("clearedTokenCookie empties the cookie with Max-Age=0 and the same attributes", () => {
    expect(clearedTokenCookie(false)).toBe("octo_token=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    expect(clearedTokenCookie(true)).toEndWith("; Secure");
  });

  test("a cookie set by tokenCookie reads back through extractToken", () => {
    const setCookie = tokenCookie("eyJ.abc.def", 10, false);
    const cookieHeader = setCookie.split(";")[0]!;
    expect(extractToken(headers({ cookie: cookieHeader }), "", false)).toEqual({ token: "eyJ.abc.def", source: "cookie" });
  });
});

describe("stripTokenCookie", () => {
  test("removes octo_token and keeps every other cookie in order", () => {
    expect(stripTokenCookie("a=1; octo_token=secret; b=2")).toBe("a=1; b=2");
    expect(stripTokenCookie("octo_token=secret;theme=dark")).toBe("theme=dark");
    expect(stripTokenCookie(" octo_token=x ;  octo_token=y; z=3 ")).toBe("z=3");
  });

  test("keeps look-alike cookies and answers undefined when nothing remains", () => {
    expect(stripTokenCookie("octo_token_v2=1; my_octo_token=2")).toBe("octo_token_v2=1; my_octo_token=2");
    expect(stripTokenCookie("octo_token=secret")).toBeUndefined();
    expect(stripTokenCookie("")).toBeUndefined();
    expect(stripTokenCookie(undefined)).toBeUndefined();
    expect(stripTokenCookie(";;")).toBeUndefined();
  });
});
