/**
 * The LLM gateway in the web app, in Chromium against a real `octo serve` (local mode, real OpenCode) that
 * starts with no provider and a per-session budget of 1000 tokens (the title request and the first turn fit,
 * the next turn does not): the admin is told before the first prompt and follows the link to Admin -> Providers, adds the scripted LLM there (no restart), chats in a new
 * session, sees the budget left, and gets the budget's refusal once, in the provider's words; a provider
 * that keeps failing shows a compact retry line that fits the toolbar at phone and desktop widths.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CHROMIUM_COMPONENT, ensureWebBuild, launchBrowser, type Page, type TestBrowser } from "../support/browser.ts";
import { lastUserText, reply, type ScriptedLlm, startScriptedLlm } from "../support/llm.ts";
import { type OctoServerProcess, startOcto } from "../support/octo.ts";
import { requires } from "../support/requires.ts";
import { tempDir } from "../support/tmp.ts";

const SLOW = 240_000;
const UI_TIMEOUT = 90_000;
const REAL_KEY = "sk-browser-real-key-4c2e";
const haveChromium = await requires(CHROMIUM_COMPONENT, "the LLM gateway in the web app (Chromium)");

let llm: ScriptedLlm;
let octo: OctoServerProcess;
let browser: TestBrowser;
let page: Page;

async function newSession(name: string) {
  await page.goto("/");
  await page.getByPlaceholder("New session name").fill(name);
  await page.getByRole("button", { name: "Create session" }).click();
  await page.waitForURL(/\/sessions\/[a-z0-9]+$/);
  await page.getByLabel("Message", { exact: true }).waitFor();
  await page.getByText("Live", { exact: true }).waitFor();
}

async function sendMessage(text: string) {
  await page.getByLabel("Message", { exact: true }).fill(text);
  await page.keyboard.press("Enter");
  await page.locator(".message.user").getByText(text).waitFor();
}

describe.skipIf(!haveChromium)("the LLM gateway in the web app", () => {
  beforeAll(async () => {
    ensureWebBuild();
    llm = await startScriptedLlm({
      script: (request) =>
        lastUserText(request).includes("flaky") ? reply.error(503, `The upstream model is overloaded right now; ${"please wait and try again later. ".repeat(4)}`) : reply.text("Hello through the gateway."),
    });
    const configFile = join(tempDir("oc-config-"), "opencode.json");
    writeFileSync(configFile, JSON.stringify({ permission: { edit: "allow", bash: "allow" } }));
    octo = await startOcto({
      env: {
        OCTO_OPENCODE__CONFIG_PATH: configFile,
        OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }',
        OCTO_GATEWAY__SESSION_BUDGET: "{ tokens = 1000 }",
      },
    });
    browser = await launchBrowser({ baseURL: octo.url, screenshotPrefix: "gateway-" });
    page = browser.page;
    page.setDefaultTimeout(UI_TIMEOUT);
    await page.goto(`/register?invite=${encodeURIComponent(octo.firstInvite!)}`);
    await page.getByRole("tab", { name: "Register" }).click();
    await page.getByLabel("Username").fill("alice");
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByLabel("Invite code").fill(octo.firstInvite!);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByPlaceholder("New session name").waitFor();
  }, SLOW);

  afterAll(async () => {
    await browser?.close();
    await octo?.stop();
    await llm?.stop();
  }, 120_000);

  test(
    "no provider: said before the first prompt, with a link the admin follows to add one",
    async () => {
      await newSession("first");
      const notice = page.locator(".no-provider");
      await notice.getByText("No LLM provider is configured").waitFor();
      await browser.screenshot("01-no-provider");
      await notice.getByRole("link", { name: "Add a provider" }).click();
      await page.waitForURL(/\/admin\?tab=providers$/);
      await page.getByLabel("Id", { exact: true }).fill("mock");
      await page.getByLabel("Base URL", { exact: true }).fill(llm.url);
      await page.getByLabel("API key", { exact: true }).fill(REAL_KEY);
      await page.getByLabel("Models", { exact: true }).fill("mock-1");
      await page.getByRole("button", { name: "Add provider" }).click();
      await page.getByRole("cell", { name: "mock-1" }).waitFor();
      expect(await page.content()).not.toContain(REAL_KEY);
      await browser.screenshot("02-provider-added");
    },
    SLOW,
  );

  test(
    "a session started afterwards answers through the gateway; the budget shows and then refuses, once, in words",
    async () => {
      await newSession("budgeted");
      expect(await page.locator(".no-provider").count()).toBe(0);
      await sendMessage("hello");
      await page.locator(".message.assistant").getByText("Hello through the gateway.").waitFor();
      expect(llm.requests.filter((r) => r.kind === "agent").at(-1)!.headers.authorization).toBe(`Bearer ${REAL_KEY}`);
      await page.locator(".budget-pill.spent", { hasText: "0 tokens left this session" }).waitFor();

      await sendMessage("and again");
      const refusal = "this session's budget of 1000 tokens is used up";
      await page.getByText(refusal, { exact: false }).first().waitFor();
      await Bun.sleep(1000); // let any second rendering of the error arrive
      const shown = await page.evaluate((text) => document.body.innerText.split(text).length - 1, refusal);
      expect(shown).toBe(1);
      await browser.screenshot("03-budget-refused");
    },
    SLOW,
  );

  test(
    "retries are one compact line with the attempt count that never overflows the toolbar",
    async () => {
      await newSession("flaky");
      await sendMessage("flaky please");
      const indicator = page.locator(".busy-indicator.retrying");
      await indicator.getByText(/Retry #\d+/).waitFor();
      for (const width of [1400, 760, 360]) {
        await page.setViewportSize({ width, height: 800 });
        await Bun.sleep(200);
        const fits = await page.evaluate(() => {
          const el = document.querySelector(".busy-indicator.retrying") as HTMLElement | null;
          const bar = document.querySelector(".chat-toolbar") as HTMLElement | null;
          if (!el || !bar) return "missing";
          const a = el.getBoundingClientRect();
          const b = bar.getBoundingClientRect();
          return a.right <= b.right + 0.5 && a.left >= b.left - 0.5 && el.scrollHeight <= el.clientHeight + 1 ? "fits" : `overflows ${JSON.stringify([a.left, a.right, b.left, b.right])}`;
        });
        expect(fits).toBe("fits");
        await browser.screenshot(`04-retry-${width}`);
      }
      expect(await indicator.getAttribute("title")).toContain("overloaded");
      await indicator.getByRole("button", { name: "Stop retrying" }).click();
      await page.locator(".busy-indicator.idle").waitFor();
    },
    SLOW,
  );
});
