/**
 * What a hostile session serves through the proxy cannot act on octo's origin: every proxied answer is
 * `Content-Security-Policy: sandbox` (no script runs, an opaque origin) with `nosniff`, and loses the
 * session's `Set-Cookie` and `Clear-Site-Data`. Checked on the wire and in real Chromium, with the fake
 * runtime's `/hostile.html` (test/support/fakes.ts) standing in for OpenCode's own index.html.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { launchBrowser } from "../../support/browser.ts";
import { quickUser } from "../../support/db.ts";
import { type SessionStack, serveStack, sessionStack, type StackServer } from "../../support/fakes.ts";

let s: SessionStack;
let served: StackServer;
let token: string;
let sessionId: string;

beforeAll(async () => {
  s = sessionStack();
  served = await serveStack(s);
  const alice = await quickUser(s, "alice");
  token = alice.token;
  sessionId = (await s.sessions.create(alice.user, "main")).id;
}, 30_000);

afterAll(async () => {
  await served.close();
});

describe("answers of a session's services", () => {
  test("are sandboxed and nosniff, without the session's Set-Cookie, Clear-Site-Data or own CSP", async () => {
    for (const service of ["code", "files"]) {
      const res = await fetch(`${served.base}/session/${sessionId}/${service}/hostile.html`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toStartWith("text/html");
      expect([service, res.headers.get("content-security-policy"), res.headers.get("x-content-type-options")]).toEqual([service, "sandbox", "nosniff"]);
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(res.headers.get("clear-site-data")).toBeNull();
      expect(await res.text()).toContain("hostile page");
    }
  });

  test("in Chromium, a session's HTML page runs no script on octo's origin and cannot touch octo's cookie", async () => {
    const browser = await launchBrowser({ baseURL: served.base });
    try {
      await browser.context.addCookies([{ name: "octo_token", value: token, url: served.base, httpOnly: true, sameSite: "Lax" }]);
      await browser.page.goto(`/session/${sessionId}/code/hostile.html`);
      await browser.page.locator("body", { hasText: "hostile page" }).waitFor();
      expect(await browser.page.title()).toBe("hostile");
      expect(await browser.page.evaluate(() => document.body.dataset.me ?? null).catch(() => null)).toBeNull();
      const cookies = await browser.context.cookies(served.base);
      expect(cookies.filter((c) => c.name === "octo_token").map((c) => c.value)).toEqual([token]);
      // The page's origin is opaque: it is not octo's.
      expect(await browser.page.evaluate(() => window.origin).catch(() => "null")).toBe("null");
    } finally {
      await browser.close();
    }
  }, 60_000);
});
