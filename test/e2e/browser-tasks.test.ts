/**
 * The web app's tasks and attention features in Chromium against a real `octo serve` (real OpenCode, the
 * scripted LLM): the notification opt-in on the settings page (the browser's permission flow), a task run
 * from the tasks page while another page is open puts an unread marker on its session, a count in the tab
 * title and a browser notification; the task opens its session's conversation, which clears the marker.
 * Access tokens are created and revoked on the settings page, webhooks added, their deliveries seen and
 * deleted; on the tasks page a running task is cancelled, a finished one followed up, a task made elsewhere
 * appears by the event stream alone, and schedules are added, paused and deleted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CHROMIUM_COMPONENT, ensureWebBuild, launchBrowser, type Page, type TestBrowser } from "../support/browser.ts";
import { lastUserText, opencodeConfig, reply, type ScriptedLlm, startScriptedLlm, toolResults } from "../support/llm.ts";
import { Api, eventually, type OctoServerProcess, startOcto } from "../support/octo.ts";
import { requires } from "../support/requires.ts";
import { tempDir } from "../support/tmp.ts";

const SLOW = 180_000;
const haveChromium = await requires(CHROMIUM_COMPONENT, "the tasks page and notifications in Chromium");

let llm: ScriptedLlm;
let octo: OctoServerProcess;
let browser: TestBrowser;
let page: Page;
let token = "";

/** Records every Notification the page makes (headless Chromium shows none). */
const RECORD_NOTIFICATIONS = `(() => {
  const Real = window.Notification;
  window.__notes = [];
  class Recorded extends Real {
    constructor(title, options) { super(title, options); window.__notes.push({ title, body: options && options.body }); }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...a) => Real.requestPermission(...a);
  window.Notification = Recorded;
})();`;

describe.skipIf(!haveChromium)("tasks and notifications in Chromium", () => {
  beforeAll(async () => {
    ensureWebBuild();
    llm = await startScriptedLlm({
      script: (request) => {
        if (lastUserText(request).startsWith("hang")) return reply.hang("working on it");
        if (lastUserText(request).startsWith("ask me")) {
          if (toolResults(request).length) return reply.text(`Noted: ${toolResults(request)[0]!.content}`);
          return reply.tool("question", { questions: [{ question: "Which language should I use?", header: "Language", options: [{ label: "TypeScript", description: "Typed" }, { label: "Go", description: "Simple" }] }] });
        }
        return toolResults(request).length ? reply.text("Task done.", { delayMs: 100 }) : reply.tool("write", { filePath: "task.txt", content: "done\n" });
      },
    });
    const configFile = join(tempDir("oc-config-"), "opencode.json");
    writeFileSync(configFile, JSON.stringify(opencodeConfig(llm)));
    octo = await startOcto({ env: { OCTO_OPENCODE__CONFIG_PATH: configFile, OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }' } });
    const reg = await new Api(octo.url).post("/api/auth/register", { username: "alice", password: "correct horse", invite_code: octo.firstInvite });
    token = reg.json.token;
    browser = await launchBrowser({ baseURL: octo.url, screenshotPrefix: "tasks-" });
    page = browser.page;
    page.setDefaultTimeout(60_000);
    await browser.context.addCookies([{ name: "octo_token", value: token, url: octo.url }]);
    await browser.context.addInitScript(RECORD_NOTIFICATIONS);
  }, SLOW);

  afterAll(async () => {
    await browser?.close();
    await octo?.stop();
    await llm?.stop();
  }, 60_000);

  test("settings: notifications are opt-in, through the browser's permission", async () => {
    await page.goto("/settings");
    const on = page.getByRole("button", { name: "Turn notifications on" });
    await on.waitFor();
    // Nothing is on until the user asks, and the browser grants it.
    expect(await page.evaluate(() => localStorage.getItem("octo.notifications"))).toBeNull();
    expect(await page.evaluate(() => Notification.permission)).not.toBe("granted");
    await browser.context.grantPermissions(["notifications"], { origin: octo.url });
    await on.click();
    await page.getByRole("button", { name: "Turn notifications off" }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem("octo.notifications"))).toBe("on");
    await browser.screenshot("settings");
  });

  test("settings: an access token is shown once, listed, and revoked", async () => {
    await page.getByPlaceholder("What is it for?").fill("laptop");
    await page.getByRole("button", { name: "Create token" }).click();
    const shown = await page.getByTestId("new-token").innerText();
    expect(shown).toMatch(/^octo_pat_/);
    expect((await new Api(octo.url).as(shown).get("/api/me")).json.username).toBe("alice");
    await page.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke" }).click();
    await page.getByText("revoked", { exact: true }).waitFor();
    expect((await new Api(octo.url).as(shown).get("/api/me")).status).toBe(401);
  });

  test("settings: a webhook is added (its secret shown once) and listed", async () => {
    await page.getByPlaceholder("https://example.com/hooks/octo").fill("https://8.8.8.8/hooks/octo");
    await page.getByRole("button", { name: "Add webhook" }).click();
    expect(await page.getByTestId("new-webhook-secret").innerText()).toMatch(/^whsec_/);
    await page.locator("tr[data-webhook]").getByText("https://8.8.8.8/hooks/octo").waitFor();
    const listed = (await new Api(octo.url).as(token).get("/api/webhooks")).json;
    expect(listed.map((w: { url: string }) => w.url)).toEqual(["https://8.8.8.8/hooks/octo"]);
    // A forbidden target is refused with the server's reason.
    await page.getByPlaceholder("https://example.com/hooks/octo").fill("http://127.0.0.1:9/x");
    await page.getByRole("button", { name: "Add webhook" }).click();
    await page.getByText(/loopback address/).waitFor();
  });

  test("a task finishing while another page is open: unread marker, title count, notification; opening it clears them", async () => {
    await page.goto("/tasks");
    await page.getByPlaceholder("What should the agent do?").fill("write task.txt please");
    await page.getByRole("button", { name: "Run task" }).click();
    const row = page.locator("tr[data-task]").first();
    await row.waitFor();
    await page.goto("/settings");
    await page.getByTestId("unread").waitFor({ timeout: 150_000 });
    expect(await page.title()).toMatch(/^\(1\) /);
    const notes = await eventually(() => page.evaluate(() => (window as unknown as { __notes: { title: string; body: string }[] }).__notes), "a notification", 10_000);
    expect(notes[0]!.body).toBe("The agent has finished.");
    await browser.screenshot("unread");

    await page.goto("/tasks");
    await page.getByText("succeeded").first().waitFor();
    expect(await page.locator("tr[data-task]").first().innerText()).toContain("1 files +1");
    await page.getByRole("link", { name: "Open" }).first().click();
    await page.waitForURL(/\/sessions\/[a-z0-9]+\?c=ses_/);
    await page.getByText("Task done.", { exact: true }).waitFor();
    await eventually(async () => (await page.getByTestId("unread").count()) === 0, "the marker to clear", 10_000);
    expect(await page.title()).not.toMatch(/^\(/);
    await browser.screenshot("task-conversation");
  }, SLOW);

  test("tasks page: the list follows the event stream; a running task is cancelled, a finished one followed up", async () => {
    await page.goto("/tasks");
    await page.locator("tr[data-task]").first().waitFor();
    // Made elsewhere (a script): it appears and runs with no reload and no polling.
    const api = new Api(octo.url).as(token);
    const hanging = (await api.post("/api/tasks", { prompt: "hang on a moment", title: "Hanging" })).json;
    const row = page.locator(`tr[data-task="${hanging.id}"]`);
    await row.getByText("running", { exact: true }).waitFor({ timeout: 150_000 });
    await row.getByRole("button", { name: "Cancel" }).click();
    await row.getByText("cancelled", { exact: true }).waitFor();
    expect((await api.get(`/api/tasks/${hanging.id}`)).json.status).toBe("cancelled");

    const done = page.locator("tr[data-task]").filter({ hasText: "succeeded" }).first();
    const id = await done.getAttribute("data-task");
    await done.getByPlaceholder("Follow up…").fill("write task.txt once more");
    await done.getByRole("button", { name: "Send" }).click();
    const again = page.locator(`tr[data-task="${id}"]`);
    await eventually(async () => (await api.get(`/api/tasks/${id}`)).json.status === "succeeded" && (await again.innerText()).includes("succeeded"), "the follow-up to succeed", 150_000);
    expect(llm.requests.some((r) => lastUserText(r) === "write task.txt once more")).toBe(true);
    await browser.screenshot("tasks-actions");
  }, SLOW);

  test("tasks page: a task waiting for an answer to its question is answered there and resumes", async () => {
    const api = new Api(octo.url).as(token);
    const asking = (await api.post("/api/tasks", { prompt: "ask me something", title: "Asking" })).json;
    const row = page.locator(`tr[data-task="${asking.id}"]`);
    await row.getByText("waiting", { exact: true }).waitFor({ timeout: 150_000 });
    expect(await row.innerText()).toContain("Which language should I use?");
    await row.getByPlaceholder("Your answer…").fill("TypeScript");
    await row.getByRole("button", { name: "Answer" }).click();
    await row.getByText("succeeded", { exact: true }).waitFor({ timeout: 150_000 });
    const done = (await api.get(`/api/tasks/${asking.id}`)).json;
    expect(done.result.text).toContain("TypeScript");
  }, SLOW);

  test("tasks page: a schedule is added, paused and deleted; a bad cron is refused", async () => {
    const api = new Api(octo.url).as(token);
    await page.getByPlaceholder("What should the agent do each time?").fill("check the nightly build");
    await page.getByRole("button", { name: "Add schedule" }).click();
    const row = page.locator("tr[data-schedule]").filter({ hasText: "check the nightly build" });
    await row.getByText("active", { exact: true }).waitFor();
    expect((await api.get("/api/schedules")).json).toMatchObject([{ cron: "0 9 * * 1-5", paused: false, task: { prompt: "check the nightly build" } }]);
    await row.getByRole("button", { name: "Pause" }).click();
    await row.getByText("paused", { exact: true }).waitFor();
    expect((await api.get("/api/schedules")).json[0].paused).toBe(true);
    await row.getByRole("button", { name: "Delete" }).click();
    await eventually(async () => (await row.count()) === 0, "the row to go", 10_000);
    expect((await api.get("/api/schedules")).json).toEqual([]);
    await page.getByLabel("Cron").fill("every day");
    await page.getByPlaceholder("What should the agent do each time?").fill("x");
    await page.getByRole("button", { name: "Add schedule" }).click();
    await page.getByText(/cron must have 5 fields/).waitFor();
    expect((await api.get("/api/schedules")).json).toEqual([]);
  });

  test("settings: the webhook's deliveries are shown; deleting it removes it", async () => {
    await page.goto("/settings");
    const deliveries = page.locator("tr[data-delivery]");
    await deliveries.filter({ hasText: "task.succeeded" }).first().waitFor();
    await page.locator("tr[data-webhook]").getByRole("button", { name: "Delete" }).click();
    await eventually(async () => (await page.locator("tr[data-webhook]").count()) === 0, "the webhook to go", 10_000);
    expect((await new Api(octo.url).as(token).get("/api/webhooks")).json).toEqual([]);
    await browser.screenshot("webhooks");
  });
});
