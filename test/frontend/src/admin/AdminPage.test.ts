/**
 * The admin page's session limits, egress log and model access in Chromium, against octo's real front and
 * API in process (real SQLite, a fake runtime of kind "container" so egress policies are accepted; no
 * container is started). Every edit made on the page is checked against the API and the services behind
 * it; connection rows are seeded through the egress service, as the egress proxies report them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Elysia } from "elysia";
import { webApp } from "../../../../server/web/index.ts";
import { CHROMIUM_COMPONENT, ensureWebBuild, launchBrowser, type Page, type TestBrowser } from "../../../support/browser.ts";
import { quickUser } from "../../../support/db.ts";
import { eventually } from "../../../support/eventually.ts";
import { FakeRuntime, serveStack, sessionStack, type SessionStack, type StackServer } from "../../../support/fakes.ts";
import { requires } from "../../../support/requires.ts";

const SLOW = 180_000;
const haveChromium = await requires(CHROMIUM_COMPONENT, "the admin page's session limits, egress and model access (Chromium)");

let stack: SessionStack;
let server: StackServer;
let browser: TestBrowser;
let page: Page;
let adminToken = "";
let bob: Awaited<ReturnType<typeof quickUser>>;
let work = "";
let other = "";

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** Opens the limits dialog of bob's session "bobs-work" from the Sessions tab, once its content is shown. */
async function openLimitsOfWork() {
  await page.goto("/admin?tab=sessions");
  await page.getByRole("button", { name: "Limits of bobs-work" }).click();
  const dialog = page.getByRole("dialog", { name: /Limits of bob's session "bobs-work"/ });
  await dialog.getByText("(server's settings)").waitFor();
  return dialog;
}

describe.skipIf(!haveChromium)("admin page: session limits, egress, model access", () => {
  beforeAll(async () => {
    ensureWebBuild();
    stack = sessionStack({
      runtime: new FakeRuntime({ kind: "container" }),
      config: {
        gateway: {
          session_budget: { tokens: 5000 },
          providers: {
            mock: { type: "openai-compatible", base_url: "http://127.0.0.1:9/v1", api_key: "sk-admin-page-test", models: ["m1", "m2"] },
            other: { type: "openai-compatible", base_url: "http://127.0.0.1:9/v1", api_key: "sk-admin-page-test", models: ["o1"] },
          },
        },
        network: { egress: "open" },
      },
    });
    server = await serveStack(stack, { web: webApp() as unknown as Elysia });
    adminToken = (await quickUser(stack, "root", "admin")).token;
    bob = await quickUser(stack, "bob");
    work = (await stack.sessions.create(bob.user, "bobs-work")).id;
    other = (await stack.sessions.create(bob.user, "bobs-other")).id;
    const now = Date.now();
    stack.egress.record(work, { time: now - 60_000, method: "CONNECT", host: "registry.npmjs.org", port: 443, allowed: true });
    stack.egress.record(work, { time: now - 30_000, method: "CONNECT", host: "evil.example.net", port: 443, allowed: false });
    stack.egress.record(other, { time: now - 10_000, method: "GET", host: "deb.debian.org", port: 80, allowed: true });
    // Older than the log's default "Last 24 hours": listed only for a wider "Since".
    stack.egress.record(other, { time: now - 2 * 86_400_000, method: "GET", host: "old.example.org", port: 80, allowed: true });
    browser = await launchBrowser({ baseURL: server.base, screenshotPrefix: "admin-limits-" });
    page = browser.page;
    page.setDefaultTimeout(30_000);
    await browser.context.addCookies([{ name: "octo_token", value: adminToken, url: server.base, httpOnly: true, sameSite: "Lax" }]);
  }, SLOW);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  }, 60_000);

  test(
    "a session's budget override set in its limits dialog is what the API answers; clearing it returns the server's",
    async () => {
      const dialog = await openLimitsOfWork();
      expect(await dialog.getByLabel("Token budget").getAttribute("placeholder")).toBe("server: 5000");
      await dialog.getByLabel("Token budget").fill("1234");
      await dialog.getByLabel("Requests per minute").fill("7");
      await dialog.getByRole("button", { name: "Save budget" }).click();
      await dialog.getByText("(override by an admin)").waitFor();
      expect(await dialog.getByTestId("budget-effective").innerText()).toContain("1234 tokens");
      const set = await api("GET", `/api/admin/sessions/${work}/budget`);
      expect(set.json.override).toEqual({ tokens: 1234, cost_usd: null, requests_per_minute: 7 });
      expect(set.json.effective).toEqual({ tokens: 1234, cost_usd: 0, requests_per_minute: 7 });
      expect((await api("GET", `/api/admin/sessions/${other}/budget`)).json.override).toBeNull();
      await browser.screenshot("01-budget");

      await dialog.getByRole("button", { name: "Use server's" }).first().click();
      await dialog.getByText("(server's settings)").waitFor();
      expect(await dialog.getByLabel("Token budget").inputValue()).toBe("");
      expect((await api("GET", `/api/admin/sessions/${work}/budget`)).json.override).toBeNull();
      await dialog.getByRole("button", { name: "Close" }).click();
    },
    SLOW,
  );

  test(
    "a session's egress policy edited in the dialog is the API's; a bad host is refused with the server's words; its connections filter",
    async () => {
      const dialog = await openLimitsOfWork();
      await dialog.getByText("The server's policy ([network]).").waitFor();
      await dialog.getByLabel("Egress policy").selectOption("allowlist");
      await dialog.getByLabel("Allowed hosts").fill("registry.npmjs.org\n*.example.com");
      await dialog.getByRole("button", { name: "Save egress" }).click();
      await dialog.getByText("This session's own policy").waitFor();
      const policy = await api("GET", `/api/admin/sessions/${work}/egress`);
      expect(policy.json).toMatchObject({ egress: "allowlist", allow: ["registry.npmjs.org", "*.example.com"], overridden: true, applies: "next_start" });
      expect(stack.egress.policyFor(other).overridden).toBe(false);

      await dialog.getByLabel("Allowed hosts").fill("https://example.com/path");
      await dialog.getByRole("button", { name: "Save egress" }).click();
      await dialog.locator(".error-text").getByText("a host name").waitFor();
      expect((await api("GET", `/api/admin/sessions/${work}/egress`)).json.allow).toEqual(["registry.npmjs.org", "*.example.com"]);

      // This session's connections only, then its refused ones.
      const log = dialog.getByRole("table", { name: "Egress connections" });
      await log.getByText("evil.example.net:443").waitFor();
      await log.getByText("registry.npmjs.org:443").waitFor();
      expect(await log.getByText("deb.debian.org").count()).toBe(0);
      await dialog.getByLabel("Decision").selectOption("false");
      await log.getByText("registry.npmjs.org:443").waitFor({ state: "detached" });
      expect(await log.locator("tbody tr").count()).toBe(1);
      await browser.screenshot("02-egress");

      await dialog.getByRole("button", { name: "Use server's" }).nth(1).click();
      await dialog.getByText("The server's policy ([network]).").waitFor();
      expect((await api("GET", `/api/admin/sessions/${work}/egress`)).json).toMatchObject({ egress: "open", overridden: false });
      await dialog.getByRole("button", { name: "Close" }).click();
    },
    SLOW,
  );

  test(
    "the Egress tab lists every session's recent connections, filtered by session and decision",
    async () => {
      await page.goto("/admin?tab=egress");
      const log = page.getByRole("table", { name: "Egress connections" });
      await log.getByText("deb.debian.org:80").waitFor();
      expect(await log.locator("tbody tr").count()).toBe(3);
      await log.getByRole("cell", { name: other }).waitFor();
      await page.getByLabel("Since").selectOption("Last 7 days");
      await log.getByText("old.example.org:80").waitFor();
      expect(await log.locator("tbody tr").count()).toBe(4);
      await page.getByLabel("Since").selectOption("Last 24 hours");
      await log.getByText("old.example.org:80").waitFor({ state: "detached" });
      expect(await log.locator("tbody tr").count()).toBe(3);
      await page.getByLabel("Session id").fill(work);
      await page.getByRole("button", { name: "Filter" }).click();
      await log.getByText("deb.debian.org:80").waitFor({ state: "detached" });
      expect(await log.locator("tbody tr").count()).toBe(2);
      await page.getByLabel("Decision").selectOption("true");
      await log.getByText("evil.example.net:443").waitFor({ state: "detached" });
      expect(await log.locator("tbody tr").count()).toBe(1);
      await browser.screenshot("03-egress-tab");
    },
    SLOW,
  );

  test(
    "which providers and models a user may use, set from Users, is what the API and the gateway's access answer",
    async () => {
      await page.goto("/admin?tab=users");
      await page.getByRole("button", { name: "Models of bob" }).click();
      const dialog = page.getByRole("dialog", { name: "Models bob may use" });
      await dialog.getByLabel("Every provider").uncheck();
      await dialog.getByLabel("other", { exact: true }).uncheck();
      await dialog.getByLabel("Every model of those providers").uncheck();
      await dialog.getByLabel("mock/m1").uncheck();
      expect(await dialog.getByLabel("other/o1").count()).toBe(0);
      await dialog.getByRole("button", { name: "Save access" }).click();
      await dialog.getByText("Saved.").waitFor();
      expect((await api("GET", `/api/admin/users/${bob.user.id}/llm-access`)).json).toEqual({ providers: ["mock"], models: ["mock/m2"] });
      const offered = await fetch(`${server.base}/api/llm/providers`, { headers: { authorization: `Bearer ${bob.token}` } });
      expect((await offered.json()).providers.map((p: { id: string; models: string[] }) => [p.id, p.models])).toEqual([["mock", ["m2"]]]);
      await browser.screenshot("04-llm-access");

      await dialog.getByLabel("Every provider").check();
      await dialog.getByLabel("Every model of those providers").check();
      await dialog.getByRole("button", { name: "Save access" }).click();
      await eventually(async () => (await api("GET", `/api/admin/users/${bob.user.id}/llm-access`)).json.providers === null, "access back to every provider");
      expect((await api("GET", `/api/admin/users/${bob.user.id}/llm-access`)).json).toEqual({ providers: null, models: null });
      // The one console error is the refused bad host's 400 of the egress test.
      expect(browser.errors.filter((e) => !e.includes("status of 400"))).toEqual([]);
      expect(browser.cspViolations).toEqual([]);
    },
    SLOW,
  );
});
