/**
 * The chat's OpenCode features in a real browser (issue 16): Debian's Chromium against a real `octo serve`
 * in local mode, whose session runs real OpenCode driven by the scripted LLM. Where the feature is about
 * what reaches the model (an `@` mention, an attachment, the agent), the test asserts on the completion
 * requests the scripted LLM received. Screenshots land in test-output/screenshots/ (`chat-NN-*.png`), and
 * every test fails on any console error it does not expect.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CHROMIUM_COMPONENT, ensureWebBuild, launchBrowser, type Page, type TestBrowser } from "../support/browser.ts";
import { type ChatMessage, type LlmRequest, lastUserText, opencodeConfig, reply, type ScriptedLlm, type ScriptFn, startScriptedLlm, toolResults } from "../support/llm.ts";
import { type OctoServerProcess, runOcto, startOcto } from "../support/octo.ts";
import { requires } from "../support/requires.ts";
import { tempDir } from "../support/tmp.ts";

const SLOW = 180_000;
const UI_TIMEOUT = 60_000;

let llm: ScriptedLlm;
let octo: OctoServerProcess;
let browser: TestBrowser;
let page: Page;
/** The session's workspace on this machine (local mode), found from the first agent request. */
let workspace = "";

const haveChromium = await requires(CHROMIUM_COMPONENT, "the chat's OpenCode features in Chromium");

/** The working directory OpenCode names in its system prompt ("Working directory: /…"). */
function workingDirectory(request: LlmRequest): string {
  const system = (request.body?.messages ?? []).filter((m) => m.role === "system").map((m) => JSON.stringify(m.content)).join("\n");
  return /Working directory: ([^\s"\\]+)/.exec(system)?.[1] ?? "";
}

/** Every content part of every user message of a request (text and image_url parts as OpenAI carries them). */
function userContent(request: LlmRequest): Array<{ type: string; text?: string; image_url?: { url: string } }> {
  return (request.body?.messages ?? [])
    .filter((m: ChatMessage) => m.role === "user")
    .flatMap((m) => (typeof m.content === "string" ? [{ type: "text", text: m.content }] : ((m.content ?? []) as Array<{ type: string; text?: string; image_url?: { url: string } }>)));
}

/** The newest agent request whose last user text contains `marker`. */
function requestFor(marker: string): LlmRequest | undefined {
  return llm.requests.findLast((r) => r.kind === "agent" && lastUserText(r).includes(marker));
}

/**
 * The model's behaviour, by what the user's last message says: "write the plan" writes notes/plan.md by
 * its absolute path (as real models do); "change the plan" overwrites it (for undo); anything else gets a
 * one-line answer naming the turn.
 */
const script: ScriptFn = (request) => {
  const text = lastUserText(request);
  workspace ||= workingDirectory(request);
  if (toolResults(request).length > 0) return reply.text("Done.");
  if (text.includes("write the plan")) return reply.tool("write", { filePath: `${workingDirectory(request)}/notes/plan.md`, content: "step one\n" });
  if (text.includes("change the plan")) return reply.tool("write", { filePath: `${workingDirectory(request)}/notes/plan.md`, content: "step two\n" });
  return reply.text(`Answer to: ${text.slice(0, 60)}`);
};

describe.skipIf(!haveChromium)("the chat's OpenCode features in Chromium", () => {
  beforeAll(async () => {
    ensureWebBuild();
    llm = await startScriptedLlm({ script });
    const configFile = join(tempDir("oc-config-"), "opencode.json");
    writeFileSync(
      configFile,
      JSON.stringify(
        opencodeConfig(llm, {
          provider: { mock: { models: { "mock-1": { name: "Mock", limit: { context: 100_000, output: 4096 }, cost: { input: 3, output: 15 } } } } },
          agent: { reviewer: { description: "Reviews changes without editing", mode: "primary", prompt: "You are the REVIEWER agent." } },
          command: { greet: { description: "Greet someone by name", template: "Please greet $ARGUMENTS warmly" } },
        }),
      ),
    );
    octo = await startOcto({
      env: {
        OCTO_OPENCODE__CONFIG_PATH: configFile,
        OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }',
        OCTO_RUNTIME__POLL_INTERVAL_SECONDS: "1",
      },
    });
    browser = await launchBrowser({ baseURL: octo.url, screenshotPrefix: "chat-" });
    page = browser.page;
    page.setDefaultTimeout(UI_TIMEOUT);
  }, SLOW);

  afterAll(async () => {
    await browser?.close();
    await octo?.stop();
    await llm?.stop();
  });

  // No console error on any page: each test may name the ones it provokes, anything else fails it.
  let checked = 0;
  let expected: RegExp[] = [];
  const expectErrors = (...patterns: RegExp[]) => void (expected = patterns);
  afterEach(() => {
    const fresh = browser.errors.slice(checked);
    checked = browser.errors.length;
    const allowed = expected;
    expected = [];
    expect(fresh.filter((e) => !allowed.some((p) => p.test(e))), browser.failedRequests.join("\n")).toEqual([]);
  });

  const composer = () => page.getByLabel("Message");
  /** Types `text` into the composer and sends it with Enter. */
  async function send(text: string) {
    await composer().fill(text);
    await page.keyboard.press("Enter");
  }

  test("the sign-in page makes no failing request; register and open a session", async () => {
    await page.goto("/");
    await page.getByRole("button", { name: "Sign in" }).last().waitFor();
    await page.waitForLoadState("networkidle");
    expect(browser.failedRequests.filter((r) => !r.includes("(navigated"))).toEqual([]);
    expect(browser.errors).toEqual([]);
    await browser.screenshot("01-sign-in");

    const cli = runOcto(["invite-codes", "generate", "--data-dir", octo.dataDir]);
    await page.getByRole("tab", { name: "Register" }).click();
    await page.getByLabel("Username").fill("carol");
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByLabel("Invite code").fill(cli.stdout.trim());
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByPlaceholder("New session name").fill("chat");
    await page.getByRole("button", { name: "Create session" }).click();
    await page.waitForURL(/\/sessions\/[a-z0-9]+$/);
    await composer().waitFor();
    await page.getByText("Live", { exact: true }).waitFor();
  }, SLOW);

  test("a Write card shows the workspace-relative path, never the server's data directory", async () => {
    await send("Please write the plan");
    const card = page.locator('.tool-card[data-tool="write"]').last();
    await card.locator(".tool-state", { hasText: "Done" }).waitFor();
    expect(workspace.startsWith(octo.dataDir)).toBe(true); // the model was given the absolute path
    expect(await card.locator(".tool-subject").innerText()).toBe("notes/plan.md");
    expect(await page.locator(".thread").innerText()).not.toContain(octo.dataDir);
    await page.getByText("Idle", { exact: true }).waitFor();
    await browser.screenshot("02-write-card");
  }, SLOW);
});
