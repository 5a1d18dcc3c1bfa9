/**
 * The web app end to end in a real browser: Debian's Chromium (playwright-core) against a real `octo serve`
 * in local mode, whose session runs real OpenCode driven by the scripted LLM stand-in, plus octo's file
 * server and terminal. One user goes through the whole product as a person would: register with an invite,
 * create a session, chat (streamed answer, tool card, permission request), find the agent's file in the
 * file browser, use the terminal, log out. Screenshots of each screen land in test-output/screenshots/
 * (`browser-NN-*.png`) for review.
 *
 * The built app is used (frontend/dist); it is rebuilt first when missing or older than its sources.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { CHROMIUM_COMPONENT, ensureWebBuild, failOnUnexpectedErrors, launchBrowser, type Page, type Request, SCREENSHOT_DIR, type TestBrowser } from "../support/browser.ts";
import { lastUserText, opencodeConfig, reply, type ScriptedLlm, type ScriptFn, startScriptedLlm, toolResults } from "../support/llm.ts";
import { eventually, type OctoServerProcess, runOcto, scriptedLlmEnv, startOcto } from "../support/octo.ts";
import { command, requires } from "../support/requires.ts";

const SLOW = 180_000;
const UI_TIMEOUT = 60_000;
const FINAL_ANSWER =
  "Done! I created **hello.txt** containing a friendly greeting. You can open it in the file browser on the right, or print it in the terminal with `cat hello.txt`.";

/** A long, slowly streamed answer to drop the connection in the middle of. */
const COUNTING = `${Array.from({ length: 30 }, (_, i) => `n${i}`).join(" ")} finished.`;

let llm: ScriptedLlm;
let octo: OctoServerProcess;
let browser: TestBrowser;
let page: Page;

const haveChromium = await requires(CHROMIUM_COMPONENT, "the web app in Chromium against octo serve");
// `ss -K` (iproute2, kernel sock_destroy, root) cuts live TCP connections: a real network drop.
const haveSs = haveChromium && (await requires(command("ss", "iproute2"), "the event stream drop and reconnect in Chromium"));

/**
 * The model's behaviour: "write hello.txt" gets a short text and a `write` tool call (which needs
 * approval: edits are set to "ask"); once the tool result is back it streams FINAL_ANSWER slowly enough to
 * watch it arrive word by word. Anything else gets a one-line answer.
 */
const script: ScriptFn = (request) => {
  if (lastUserText(request).includes("count")) return reply.text(COUNTING, { delayMs: 120 });
  if (lastUserText(request).includes("think forever")) return reply.hang("Let me think");
  if (lastUserText(request).includes("ask me")) {
    if (toolResults(request).length > 0) return reply.text(`Noted: ${toolResults(request)[0]!.content}`);
    return reply.tool("question", {
      questions: [{ question: "Which language should I use?", header: "Language", options: [{ label: "TypeScript", description: "Typed JavaScript" }, { label: "Go", description: "Simple and fast" }] }],
    });
  }
  // 150 ms per chunk: slow enough that a loaded machine still shows several growing prefixes.
  if (toolResults(request).length > 0) return reply.text(FINAL_ANSWER, { delayMs: 150 });
  if (lastUserText(request).includes("hello.txt")) {
    return reply.sequence(reply.text("Sure, I'll create the file."), reply.tool("write", { filePath: "hello.txt", content: "hello from octo\n" }));
  }
  return reply.text("I can write files and run commands in this workspace.");
};

/** Texts the last assistant text part showed, sampled every 25 ms until `final` is complete. */
async function sampleStreaming(final: string): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + UI_TIMEOUT;
  while (Date.now() < deadline) {
    const text = await page.evaluate(() => {
      const parts = document.querySelectorAll(".message.assistant .text-part");
      return parts.length ? (parts[parts.length - 1] as HTMLElement).innerText.trim() : "";
    });
    if (text && seen.at(-1) !== text) seen.push(text);
    if (text.includes("cat hello.txt")) return seen;
    await Bun.sleep(25);
  }
  throw new Error(`the answer never completed; saw ${JSON.stringify(seen.slice(-3))} (want ${final})`);
}

describe.skipIf(!haveChromium)("the web app in Chromium against octo serve", () => {
  beforeAll(async () => {
    ensureWebBuild();
    // Screenshots of an earlier run would mix with this one's.
    for (const name of (() => { try { return readdirSync(SCREENSHOT_DIR); } catch { return []; } })()) {
      if (name.startsWith("browser-")) rmSync(join(SCREENSHOT_DIR, name));
    }
    llm = await startScriptedLlm({ script });
    octo = await startOcto({ env: scriptedLlmEnv(opencodeConfig(llm, { permission: { edit: "ask" } })) });
    browser = await launchBrowser({ baseURL: octo.url, screenshotPrefix: "browser-" });
    page = browser.page;
    page.setDefaultTimeout(UI_TIMEOUT);
  }, SLOW);

  afterAll(async () => {
    await browser?.close();
    await octo?.stop();
    await llm?.stop();
  });

  // Every console error is checked: each test names those it provokes (`expectErrors`), anything else fails it.
  const expectErrors = failOnUnexpectedErrors(() => browser);

  test("register with an invite code", async () => {
    const cli = runOcto(["invite-codes", "generate", "--role", "admin", "--data-dir", octo.dataDir]);
    expect(cli.code).toBe(0);
    const invite = cli.stdout.trim();

    await page.goto("/");
    await page.getByRole("button", { name: "Sign in" }).last().waitFor();
    await page.getByRole("tab", { name: "Register" }).click();
    await page.getByLabel("Username").fill("alice");
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByLabel("Invite code").fill("OCTO-WRONG-CODE");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toMatch(/invite/i); // shown in place
    // The browser logs that 400 answer; nothing else (the sign-in page's "who am I?" does not fail).
    expect(browser.errors.filter((e) => e.includes("status of 400"))).toHaveLength(1);
    expectErrors(/status of 400/);
    await page.getByLabel("Invite code").fill(invite);
    await browser.screenshot("01-register");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByPlaceholder("New session name").waitFor();
    expect(await page.locator(".user-name").innerText()).toBe("alice");
    // The token lives only in the HttpOnly cookie: page scripts cannot see it.
    expect(await page.evaluate(() => document.cookie)).not.toContain("octo_token");
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).not.toMatch(/eyJ/);
    await browser.screenshot("02-home");
  }, SLOW);

  test("create a session: progress while it starts, then the workspace", async () => {
    await page.getByPlaceholder("New session name").fill("demo");
    await page.getByRole("button", { name: "Create session" }).click();
    await page.waitForURL(/\/sessions\/[a-z0-9]+$/);
    await page.getByRole("heading", { name: /Starting/ }).waitFor();
    await browser.screenshot("03-starting");
    await page.getByLabel("Message", { exact: true }).waitFor();
    await page.getByText("Live", { exact: true }).waitFor();
    expect(await page.locator(".session-header .badge").innerText()).toBe("running");
    await browser.screenshot("04-workspace");
  }, SLOW);

  test("send a prompt: tool card, permission request, answer streamed token by token", async () => {
    await page.getByLabel("Message", { exact: true }).fill("Please write hello.txt");
    await page.keyboard.press("Enter");
    await page.locator(".message.user").getByText("Please write hello.txt").waitFor();

    const card = page.locator('.tool-card[data-tool="write"]');
    await card.waitFor();
    expect(await card.locator(".tool-subject").innerText()).toBe("hello.txt");
    const prompt = page.getByRole("alertdialog", { name: "Permission request" });
    await prompt.waitFor();
    expect(await prompt.innerText()).toContain("hello.txt");
    expect(await card.locator(".tool-state").innerText()).toContain("Needs approval");
    expect(await card.locator(".diff").innerText()).toContain("hello from octo");
    await browser.screenshot("05-permission");

    await prompt.getByRole("button", { name: "Allow once" }).click();
    const seen = await sampleStreaming(FINAL_ANSWER);
    // Several growing prefixes of the final text were on screen before it was complete.
    const final = seen.at(-1)!;
    const partials = seen.filter((t) => t !== final && final.startsWith(t));
    expect(partials.length).toBeGreaterThanOrEqual(3);
    await prompt.waitFor({ state: "detached" });
    await card.locator(".tool-state", { hasText: "Done" }).waitFor();
    await page.getByText("Idle", { exact: true }).waitFor();
    expect(await page.locator(".message.assistant strong", { hasText: "hello.txt" }).count()).toBeGreaterThan(0); // markdown rendered
    await browser.screenshot("06-answer");
  }, SLOW);

  test("the written file appears in the file browser and opens", async () => {
    const files = page.getByRole("tree", { name: "Workspace files" });
    await files.getByText("hello.txt", { exact: true }).click();
    const viewer = page.getByRole("region", { name: "File hello.txt" });
    await viewer.locator(".code-text").getByText("hello from octo").waitFor();
    await browser.screenshot("07-file");
  }, SLOW);

  test("the terminal runs echo hi", async () => {
    const panel = page.getByRole("region", { name: "Terminal" });
    // Nothing of xterm exists (and no shell runs) before its tab is first shown.
    expect(await panel.locator(".xterm").count()).toBe(0);
    const sockets: string[] = [];
    page.on("websocket", (ws) => sockets.push(new URL(ws.url()).pathname));
    await page.getByRole("tab", { name: "Terminal" }).click();
    await eventually(() => sockets.some((p) => p.endsWith("/term")), "the terminal's WebSocket opened when its tab was shown");
    await panel.getByText("Connected").waitFor();
    await panel.locator(".xterm-rows").getByText(/[#$]\s*$/).first().waitFor(); // the prompt
    await panel.locator(".terminal-host").click();
    // The output (42hi) cannot be a piece of the typed line, however the long prompt wraps in the narrow panel.
    await page.keyboard.type("echo $((40+2))hi");
    await page.keyboard.press("Enter");
    await panel.locator(".xterm-rows > div", { hasText: /^42hi\s*$/ }).waitFor();
    // The shell got the fitted size (resize control frames), not the 80x24 default.
    await page.keyboard.type("stty size");
    await page.keyboard.press("Enter");
    const size = panel.locator(".xterm-rows > div", { hasText: /^\d+ \d+\s*$/ });
    await size.waitFor();
    const [rows, cols] = (await size.innerText()).trim().split(" ").map(Number);
    expect(cols).toBeLessThan(80); // the side panel is narrower than 80 columns
    expect(rows).toBeGreaterThan(24);
    await browser.screenshot("08-terminal");
    // Resized while hidden, it is fitted again when shown: the shell sees fewer rows.
    await page.getByRole("tab", { name: "Files" }).click();
    const viewport = page.viewportSize()!;
    await page.setViewportSize({ width: viewport.width, height: viewport.height - 200 });
    await page.getByRole("tab", { name: "Terminal" }).click();
    await panel.locator(".terminal-host").click();
    await page.keyboard.type("clear; stty size");
    await page.keyboard.press("Enter");
    await eventually(async () => {
      const text = await panel.locator(".xterm-rows > div", { hasText: /^\d+ \d+\s*$/ }).last().innerText().catch(() => "");
      const [after] = text.trim().split(" ").map(Number);
      return after !== undefined && after > 0 && after < rows!;
    }, "the terminal refitted to the smaller window when shown again");
    await page.setViewportSize(viewport);
  }, SLOW);

  test("file operations: upload (button and drop), new folder, rename, delete with confirmation", async () => {
    await page.getByRole("tab", { name: "Files" }).click();
    const files = page.getByRole("tree", { name: "Workspace files" });
    await page.locator('input[type="file"]').setInputFiles({ name: "notes.md", mimeType: "text/markdown", buffer: Buffer.from("# Notes\n") });
    await files.getByText("notes.md", { exact: true }).waitFor();

    // Drag and drop: a real DataTransfer with a File, dispatched on the panel.
    await page.evaluate(() => {
      const panel = document.querySelector("section.files")!;
      const data = new DataTransfer();
      data.items.add(new File(["dropped\n"], "dropped.txt", { type: "text/plain" }));
      for (const type of ["dragenter", "dragover", "drop"]) panel.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
    });
    await files.getByText("dropped.txt", { exact: true }).waitFor();

    await page.getByRole("button", { name: "New folder" }).click();
    const folderDialog = page.getByRole("dialog", { name: "New folder" });
    await folderDialog.getByRole("textbox").fill("docs");
    await folderDialog.getByRole("button", { name: "Create" }).click();
    await files.getByText("docs", { exact: true }).waitFor();

    await page.locator(".tree-row", { hasText: "notes.md" }).hover(); // row actions show on hover
  await page.getByRole("button", { name: "Rename notes.md" }).click();
    const renameDialog = page.getByRole("dialog", { name: "Rename or move" });
    await renameDialog.getByRole("textbox").fill("docs/notes.md");
    await renameDialog.getByRole("button", { name: "Rename" }).click();
    await files.getByRole("group").getByText("notes.md", { exact: true }).waitFor(); // now inside the expanded docs/
    expect(await page.getByRole("treeitem", { name: /docs/ }).getAttribute("aria-expanded")).toBe("true");
    await browser.screenshot("09-files-managed");

    await page.locator(".tree-row", { hasText: "dropped.txt" }).hover();
  await page.getByRole("button", { name: "Delete dropped.txt" }).click();
    const confirm = page.getByRole("dialog", { name: "Delete dropped.txt?" });
    await confirm.getByRole("button", { name: "Delete" }).click();
    await files.getByText("dropped.txt", { exact: true }).waitFor({ state: "detached" });
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download workspace as zip" }).click()]);
    expect(download.suggestedFilename()).toEndWith(".zip");
    const listing = await (await page.request.get(`${new URL(page.url()).pathname.replace("/sessions/", "/session/")}/files/tree?path=&depth=2`)).json();
    expect(JSON.stringify(listing)).toContain("docs/notes.md");
    expect(JSON.stringify(listing)).not.toContain("dropped.txt");
  }, SLOW);

  test.if(haveSs)("the event stream drops mid-answer: the app reconnects, refetches, and shows the answer once", async () => {
    // The chat's event stream (opened when the session page loaded): its failures and new requests.
    const isStream = (r: Request) => new URL(r.url()).pathname.endsWith("/code/event");
    const seen = { failed: 0, opened: 0 };
    const onFailed = (r: Request) => void (isStream(r) && seen.failed++);
    const onRequest = (r: Request) => void (isStream(r) && seen.opened++);
    await page.getByLabel("Message", { exact: true }).fill("count for me");
    await page.keyboard.press("Enter");
    const answer = page.locator(".message.assistant .text-part", { hasText: /^n0 n1/ });
    await answer.getByText(/n3 /).waitFor();
    page.on("requestfailed", onFailed);
    page.on("request", onRequest);
    // Cut every established TCP connection of octo's port, as a network drop would (Linux `ss -K`).
    const cut = Bun.spawnSync(["ss", "-K", "state", "established", `( sport = :${octo.port} )`]);
    if (cut.exitCode !== 0) throw new Error(`ss -K could not cut the connections: ${cut.stderr}`);
    // ss lists the sockets it closed: the browser's connections to octo were among them.
    const closed = cut.stdout.toString().split("\n").filter((line) => line.includes(`:${octo.port} `));
    expect(closed.length).toBeGreaterThan(0);
    // The browser saw its event stream fail and opened a new one.
    await eventually(() => seen.failed > 0, "the open event stream to fail in the browser", UI_TIMEOUT);
    await eventually(() => seen.opened > 0, "a new event stream request", UI_TIMEOUT);
    page.off("requestfailed", onFailed);
    page.off("request", onRequest);
    await answer.getByText(/finished\.$/).waitFor();
    await page.getByText("Live", { exact: true }).waitFor();
    expect(await answer.count()).toBe(1);
    expect((await answer.innerText()).trim()).toBe(COUNTING);
    expect(await page.locator(".message.user", { hasText: "count for me" }).count()).toBe(1);
    // The terminal lost its socket too and came back by itself with a new shell.
    await page.getByRole("tab", { name: "Terminal" }).click();
    await page.getByRole("region", { name: "Terminal" }).getByText("Connected").waitFor();
    await browser.screenshot("10-after-reconnect");
    await page.getByRole("tab", { name: "Files" }).click();
    // The cut connections are logged as network errors; nothing else may be.
    expectErrors(/net::ERR_/, /WebSocket/);
  }, SLOW);

  test("abort a running turn with Escape", async () => {
    await page.getByLabel("Message", { exact: true }).fill("think forever");
    await page.keyboard.press("Enter");
    await page.getByText(/^Working…/).waitFor();
    await page.locator(".message.assistant .text-part", { hasText: "Let me think" }).waitFor(); // the model is mid-answer
    await page.getByLabel("Message", { exact: true }).focus();
    await page.keyboard.press("Escape");
    await page.locator(".message-note", { hasText: "Stopped." }).waitFor();
    await page.getByText("Idle", { exact: true }).waitFor();
    await eventually(() => llm.requests.some((r) => r.aborted), "OpenCode closes the model's stream", 10_000);
  }, SLOW);

  test("a new conversation; the agent asks a question and gets the answer", async () => {
    await page.getByRole("button", { name: "New conversation" }).click();
    await page.locator(".chat-title", { hasText: "New session" }).waitFor();
    await page.getByLabel("Message", { exact: true }).fill("ask me which language");
    await page.keyboard.press("Enter");
    const question = page.getByRole("alertdialog", { name: "Question from the agent" });
    await question.getByRole("radio", { name: /Go/ }).click();
    await browser.screenshot("11-question");
    await question.getByRole("button", { name: "Answer" }).click();
    await page.locator(".message.assistant .text-part", { hasText: /Noted: .*Go/ }).waitFor();
    await question.waitFor({ state: "detached" });
    expect(await page.locator(".conversation").count()).toBe(2);
  }, SLOW);

  test("admin: create an invite code shown once, revoke it; users; all sessions", async () => {
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("heading", { name: "Administration" }).waitFor();
    await page.getByRole("textbox", { name: "Note" }).fill("for bob");
    await page.getByRole("button", { name: "Create invite" }).click();
    const code = await page.getByTestId("invite-code").innerText();
    expect(code).toMatch(/^OCTO-/);
    await page.getByRole("button", { name: "Copy code" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);
    const row = page.locator("tr", { hasText: "for bob" });
    await browser.screenshot("12-admin-invites");
    await row.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("dialog", { name: "Revoke this invite code?" }).getByRole("button", { name: "Revoke" }).click();
    await row.getByText("revoked").waitFor();
    // The code is not shown again anywhere once dismissed.
    await page.getByRole("button", { name: "Dismiss" }).click();
    expect(await page.locator("body").innerText()).not.toContain(code);

    await page.getByRole("tab", { name: "Users" }).click();
    const alice = page.locator("tr", { hasText: "alice" });
    await alice.waitFor();
    expect(await alice.getByRole("combobox", { name: "Role of alice" }).inputValue()).toBe("admin");
    expect(await alice.getByRole("combobox", { name: "Role of alice" }).isDisabled()).toBe(true); // not your own role
    await page.getByRole("tab", { name: "All sessions" }).click();
    await page.locator("tr", { hasText: "demo" }).getByText("running").waitFor();
    await browser.screenshot("13-admin-sessions");
  }, SLOW);

  test("admin: the audit log with filters and paging", async () => {
    await page.getByRole("tab", { name: "Audit log" }).click();
    const rows = page.locator(".audit-table tbody tr");
    await rows.filter({ hasText: "invite.revoke" }).waitFor();
    for (const [action, text] of [
      ["user.register", "user alice"],
      ["invite.create", "for bob"],
      ["session.create", "session demo"],
    ]) {
      await rows.filter({ hasText: action! }).filter({ hasText: text! }).first().waitFor();
    }
    expect(await rows.filter({ hasText: "invite.revoke" }).first().innerText()).toContain("alice");
    await browser.screenshot("13b-admin-audit");

    // 60 more invite codes from the CLI, so the invite.create events span two pages of 50.
    expect(runOcto(["invite-codes", "generate", "--count", "60", "--note", "bulk", "--data-dir", octo.dataDir]).code).toBe(0);

    const filter = page.getByRole("search", { name: "Filter the audit log" });
    await filter.getByLabel("Action", { exact: true }).selectOption("invite.create");
    await page.getByRole("button", { name: "Load more" }).waitFor();
    expect(await rows.count()).toBe(50);
    expect(await rows.filter({ hasNotText: "invite.create" }).count()).toBe(0);
    await page.getByRole("button", { name: "Load more" }).click();
    // The first admin's invite (server), the CLI one alice registered with, "for bob", and the 60 bulk ones.
    await page.waitForFunction(() => document.querySelectorAll(".audit-table tbody tr").length === 63);
    expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);
    expect(await rows.filter({ hasText: "cli (" }).count()).toBe(61);

    await filter.getByLabel("Action", { exact: true }).selectOption("");
    await filter.getByLabel("User", { exact: true }).fill("alice");
    await filter.getByRole("button", { name: "Filter" }).click();
    await page.waitForFunction(() => ![...document.querySelectorAll(".audit-table tbody tr")].some((r) => r.textContent?.includes("cli (")));
    await rows.filter({ hasText: "user.register" }).waitFor();
    expect(await rows.count()).toBeLessThan(20);
  }, SLOW);

  test("phone-sized screen: panels become tabs; dark theme", async () => {
    await page.getByRole("link", { name: "demo" }).click();
    await page.emulateMedia({ colorScheme: "dark" });
    await page.setViewportSize({ width: 390, height: 844 });
    const tabs = page.getByRole("tablist", { name: "Panels" });
    await tabs.getByRole("tab", { name: "Chat" }).click();
    await page.getByLabel("Message", { exact: true }).waitFor();
    await browser.screenshot("14-phone-chat");
    await tabs.getByRole("tab", { name: "Files" }).click();
    await page.getByRole("tree", { name: "Workspace files" }).waitFor();
    expect(await page.getByLabel("Message", { exact: true }).isVisible()).toBe(false);
    await browser.screenshot("15-phone-files");
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.emulateMedia({ colorScheme: "light" });
  }, SLOW);

  test("idle stop with the page open: the session stops after its owner's idle timeout and the page offers to start it", async () => {
    // The admin's own idle timeout (a per-user override) set from the page itself, same-origin.
    const setIdle = (seconds: number | null) =>
      page.evaluate(async ([value]) => {
        const me = (await (await fetch("/api/me")).json()) as { id: string };
        const res = await fetch(`/api/admin/users/${me.id}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ idle_timeout_seconds: value }) });
        return res.status;
      }, [seconds] as const);
    await page.getByLabel("Message", { exact: true }).waitFor();
    expect(await setIdle(3)).toBe(200);
    try {
      // The page's own open event streams (chat, sessions) and heartbeats are not activity.
      await page.getByRole("heading", { name: "This session is stopped" }).waitFor({ timeout: UI_TIMEOUT });
      await page.getByText("Stopped after 3 s without activity.", { exact: false }).waitFor();
      await browser.screenshot("15b-idle-stopped");
    } finally {
      expect(await setIdle(null)).toBe(200);
    }
    await page.locator(".state-card").getByRole("button", { name: "Start" }).click();
    await page.getByLabel("Message", { exact: true }).waitFor({ timeout: UI_TIMEOUT });
    expectErrors(/net::ERR_/, /status of 503/);
  }, SLOW);

  test("session lifecycle: stop, start again with progress, delete with confirmation", async () => {
    const header = page.locator(".session-header");
    await header.getByRole("button", { name: "Stop" }).click();
    await page.getByRole("heading", { name: "This session is stopped" }).waitFor();
    await browser.screenshot("16-stopped");
    await page.locator(".state-card").getByRole("button", { name: "Start" }).click();
    await page.getByRole("heading", { name: /Starting/ }).waitFor();
    await page.getByLabel("Message", { exact: true }).waitFor();
    // The conversation survived the restart.
    await page.locator(".message.user", { hasText: "ask me which language" }).waitFor();
    await header.getByRole("button", { name: "Delete session" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete “demo”?" });
    await dialog.getByRole("checkbox").check();
    await browser.screenshot("17-delete-confirm");
    await dialog.getByRole("button", { name: "Delete session" }).click();
    await page.waitForURL((url) => url.pathname === "/");
    await page.getByText("No sessions yet.", { exact: false }).waitFor();
  }, SLOW);

  test("log out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).last().waitFor();
    expect((await page.request.get("/api/me")).status()).toBe(401);
    await page.reload();
    await page.getByRole("button", { name: "Sign in" }).last().waitFor();
    await browser.screenshot("18-logged-out");
    // No console error: signed out, the app asks who is signed in without a failing request.
    // Every step above ran under the app's Content-Security-Policy without breaking it.
    expect(browser.cspViolations).toEqual([]);
  }, SLOW);
});
