/**
 * The chat's OpenCode features in a real browser (issue 16): Debian's Chromium against a real `octo serve`
 * in local mode, whose session runs real OpenCode driven by the scripted LLM. Where the feature is about
 * what reaches the model (an `@` mention, an attachment, the agent), the test asserts on the completion
 * requests the scripted LLM received. Screenshots land in test-output/screenshots/ (`chat-NN-*.png`), and
 * every test fails on any console error it does not expect.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CHROMIUM_COMPONENT, ensureWebBuild, failOnUnexpectedErrors, launchBrowser, type Page, type TestBrowser } from "../support/browser.ts";
import { type ChatMessage, type LlmRequest, lastUserText, opencodeConfig, reply, type ScriptedLlm, type ScriptFn, startScriptedLlm, toolResults } from "../support/llm.ts";
import { eventually, type OctoServerProcess, runOcto, scriptedLlmEnv, startOcto } from "../support/octo.ts";
import { requires } from "../support/requires.ts";

const SLOW = 240_000;
const UI_TIMEOUT = 90_000;

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
 * one-line answer naming the turn; "filler turn" gets a tall answer of 30 paragraphs (for a long thread).
 */
const script: ScriptFn = (request) => {
  const text = lastUserText(request);
  workspace ||= workingDirectory(request);
  if (toolResults(request).length > 0) return reply.text("Done.");
  if (text.includes("write the plan")) return reply.tool("write", { filePath: `${workingDirectory(request)}/notes/plan.md`, content: "step one\n" });
  if (text.includes("make a todo list")) {
    return reply.tool("todowrite", {
      todos: [
        { id: "1", content: "Read the plan", status: "completed", priority: "high" },
        { id: "2", content: "Write the tests", status: "in_progress", priority: "medium" },
        { id: "3", content: "Ship it", status: "pending", priority: "low" },
      ],
    });
  }
  if (text.includes("filler turn")) return reply.text(Array.from({ length: 30 }, (_, i) => `Line ${i + 1} of the ${text.slice(0, 20)}.`).join("\n\n"));
  if (text.includes("change the plan")) return reply.tool("write", { filePath: `${workingDirectory(request)}/notes/plan.md`, content: "step two\n" });
  return reply.text(`Answer to: ${text.slice(0, 60)}`);
};

describe.skipIf(!haveChromium)("the chat's OpenCode features in Chromium", () => {
  beforeAll(async () => {
    ensureWebBuild();
    llm = await startScriptedLlm({ script });
    const config = opencodeConfig(llm, {
      provider: {
        mock: {
          models: {
            "mock-1": { name: "Mock", attachment: true, modalities: { input: ["text", "image"], output: ["text"] }, limit: { context: 100_000, output: 4096 }, cost: { input: 3, output: 15 } },
          },
        },
      },
      agent: { reviewer: { description: "Reviews changes without editing", mode: "primary", prompt: "You are the REVIEWER agent." } },
      command: { greet: { description: "Greet someone by name", template: "Please greet $ARGUMENTS warmly" } },
    });
    octo = await startOcto({ env: scriptedLlmEnv(config) });
    browser = await launchBrowser({ baseURL: octo.url, screenshotPrefix: "chat-" });
    page = browser.page;
    page.setDefaultTimeout(UI_TIMEOUT);
  }, SLOW);

  afterAll(async () => {
    await browser?.close();
    await octo?.stop();
    await llm?.stop();
  }, SLOW);

  // Every console error is checked: each test names those it provokes (`expectErrors`), anything else fails it.
  const expectErrors = failOnUnexpectedErrors(() => browser);

  const composer = () => page.getByRole("textbox", { name: "Message", exact: true });
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

  test("slash commands: the list with descriptions, filtered as you type, keyboard-navigable; a server command reaches the model", async () => {
    await composer().fill("/");
    const list = page.getByRole("listbox", { name: "Commands" });
    await list.getByRole("option", { name: /\/greet/ }).waitFor();
    const names = await list.getByRole("option").locator(".suggestion-label").allInnerTexts();
    expect(names).toEqual(expect.arrayContaining(["/new", "/undo", "/redo", "/compact", "/fork", "/export", "/init", "/review", "/greet"]));
    expect(await list.getByRole("option", { name: /\/greet/ }).innerText()).toContain("Greet someone by name");
    await browser.screenshot("03-slash-list");
    await page.keyboard.type("re");
    await list.getByRole("option", { name: /\/new/ }).waitFor({ state: "detached" });
    const filtered = await list.getByRole("option").locator(".suggestion-label").allInnerTexts();
    expect(filtered[0]).toBe("/redo"); // names starting with the query first
    expect(filtered).toContain("/review");
    expect(filtered).not.toContain("/new");
    await composer().fill("/gr");
    await list.getByRole("option", { name: /\/greet/ }).waitFor();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowUp");
    expect(await list.getByRole("option", { selected: true }).innerText()).toContain("/greet");
    // A loaded machine's next animation frame can come after the first keys typed after the pick: here every
    // frame requested from the pick until the first typed key runs only after that key (as it did in CI, where
    // the caret placed in such a frame turned "Bob" into "obB"). The composer must not depend on that frame.
    await page.evaluate(() => {
      const w = window as Window & { realRequestAnimationFrame?: typeof requestAnimationFrame };
      w.realRequestAnimationFrame = w.requestAnimationFrame.bind(w);
      w.requestAnimationFrame = (cb) => {
        document.addEventListener("input", () => setTimeout(() => w.realRequestAnimationFrame!(cb), 0), { once: true });
        return 0;
      };
    });
    await page.keyboard.press("Enter"); // completes "/greet " for the arguments
    expect(await composer().inputValue()).toBe("/greet ");
    await page.keyboard.type("Bob");
    await page.evaluate(() => {
      const w = window as Window & { realRequestAnimationFrame?: typeof requestAnimationFrame };
      w.requestAnimationFrame = w.realRequestAnimationFrame!;
    });
    expect(await composer().inputValue()).toBe("/greet Bob");
    await page.keyboard.press("Enter");
    await eventually(() => requestFor("Please greet Bob warmly") !== undefined, "the command's prompt to reach the model", UI_TIMEOUT);
    await page.locator(".message.assistant .text-part", { hasText: "Answer to: Please greet Bob warmly" }).waitFor();
    await page.getByText("Idle", { exact: true }).waitFor();
  }, SLOW);

  test("@ mentions: search the workspace's files, attach one as a chip, and the model receives it as a file part", async () => {
    await composer().fill("Summarize @pla");
    const files = page.getByRole("listbox", { name: "Files" });
    await files.getByRole("option", { name: "notes/plan.md" }).waitFor();
    await page.keyboard.press("Enter");
    expect(await composer().inputValue()).toBe("Summarize @notes/plan.md ");
    await page.getByRole("list", { name: "Attachments" }).getByText("@notes/plan.md").waitFor();
    await browser.screenshot("04-mention");
    await page.keyboard.type("please");
    await page.keyboard.press("Enter");
    await page.locator(".message.user", { hasText: "Summarize @notes/plan.md please" }).waitFor();
    await eventually(() => requestFor("please") !== undefined, "the prompt to reach the model", UI_TIMEOUT);
    // OpenCode read the mentioned file and gave the model its content next to the prompt.
    const content = userContent(requestFor("please")!).map((p) => p.text ?? "").join("\n");
    expect(content).toContain("notes/plan.md");
    expect(content).toContain("step one");
    await page.getByText("Idle", { exact: true }).waitFor();
  }, SLOW);

  test("attachments: a pasted image is previewed and reaches the model; a file over the limit is refused with a clear message", async () => {
    // A 1x1 PNG, pasted as a real clipboard event with a File.
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
    await composer().fill("What is in this image?");
    await page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], "dot.png", { type: "image/png" }));
      document.querySelector("textarea[aria-label=Message]")!.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    }, png);
    await page.getByRole("img", { name: "Preview of dot.png" }).waitFor();
    // Too big: dropped on the composer, refused by name and size, nothing attached.
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(6 * 1024 * 1024)], "huge.bin", { type: "application/octet-stream" }));
      const form = document.querySelector("form.composer")!;
      for (const type of ["dragover", "drop"]) form.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await page.getByText(/huge\.bin is 6\.0 MB; attachments are limited to 5\.0 MB/).waitFor();
    expect(await page.getByRole("list", { name: "Attachments" }).getByRole("listitem").count()).toBe(1);
    await browser.screenshot("05-attachment");
    await page.keyboard.press("Enter");
    await page.locator(".message.user img.message-image").waitFor();
    await eventually(() => requestFor("What is in this image?") !== undefined, "the prompt to reach the model", UI_TIMEOUT);
    const image = userContent(requestFor("What is in this image?")!).find((p) => p.type === "image_url");
    expect(image?.image_url?.url).toBe(`data:image/png;base64,${png}`);
    await page.getByText("Idle", { exact: true }).waitFor();
  }, SLOW);

  test("agent picker: build, plan and the configured agent; the choice reaches the model and is remembered per conversation", async () => {
    const picker = page.getByRole("combobox", { name: "Agent" });
    expect(await picker.locator("option").allInnerTexts()).toEqual(expect.arrayContaining(["build", "plan", "reviewer"]));
    await picker.selectOption("reviewer");
    await send("Review as the reviewer");
    await eventually(() => requestFor("Review as the reviewer") !== undefined, "the prompt to reach the model", UI_TIMEOUT);
    const system = (requestFor("Review as the reviewer")!.body?.messages ?? []).filter((m) => m.role === "system").map((m) => JSON.stringify(m.content)).join("");
    expect(system).toContain("You are the REVIEWER agent.");
    await page.getByText("Idle", { exact: true }).waitFor();
    await browser.screenshot("06-agent");
    // Remembered for this conversation after a reload; a new conversation starts with the default.
    await page.reload();
    await composer().waitFor();
    await page.getByText("Live", { exact: true }).waitFor();
    await eventually(async () => (await page.getByRole("combobox", { name: "Agent" }).inputValue()) === "reviewer", "the remembered agent", UI_TIMEOUT);
    await page.getByRole("combobox", { name: "Agent" }).selectOption("build");
  }, SLOW);

  test("!command runs in the workspace's shell and its output shows in the conversation", async () => {
    await send("!echo shell-$((6*7))");
    const card = page.locator('.tool-card[data-tool="bash"]').last();
    await card.getByText("shell-42").first().waitFor();
    expect(await card.locator(".tool-subject").innerText()).toBe("echo shell-$((6*7))");
    await browser.screenshot("07-shell");
  }, SLOW);

  test("undo a turn restores the file it changed; redo brings the change back", async () => {
    const plan = () => readFileSync(join(workspace, "notes", "plan.md"), "utf8");
    expect(plan()).toBe("step one\n");
    await send("Now change the plan");
    await page.locator('.tool-card[data-tool="write"] .tool-state', { hasText: "Done" }).nth(1).waitFor();
    await page.getByText("Idle", { exact: true }).waitFor();
    expect(plan()).toBe("step two\n");

    await composer().fill("/undo");
    await page.getByRole("listbox", { name: "Commands" }).getByRole("option", { name: /\/undo/ }).click();
    await page.getByRole("status").filter({ hasText: /undone, with their file changes/ }).waitFor();
    await eventually(() => plan() === "step one\n", "the file to be restored", UI_TIMEOUT);
    expect(await composer().inputValue()).toBe("Now change the plan"); // the undone prompt is back for editing
    expect(await page.locator(".message.user", { hasText: "Now change the plan" }).count()).toBe(0);
    await browser.screenshot("08-undo");

    await page.getByRole("status").getByRole("button", { name: "Redo" }).click();
    await page.locator(".message.user", { hasText: "Now change the plan" }).waitFor();
    await eventually(() => plan() === "step two\n", "the change to come back", UI_TIMEOUT);
    await composer().fill("");
  }, SLOW);

  test("copy a message; fork from a message into a new conversation", async () => {
    const answer = page.locator(".message.assistant", { hasText: "Answer to: Review as the reviewer" });
    await answer.hover();
    await answer.getByRole("button", { name: "Copy text" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("Answer to: Review as the reviewer");
    const before = await page.locator(".conversation").count();
    // The thread is virtualized: the first message is in the DOM once the user scrolls up to it.
    await page.locator(".thread").evaluate((el) => el.scrollTo({ top: 0 }));
    const first = page.locator(".message.user", { hasText: "Please write the plan" });
    await first.hover();
    await first.getByRole("button", { name: "Fork from here" }).click();
    await eventually(async () => (await page.locator(".conversation").count()) === before + 1, "the fork in the list", UI_TIMEOUT);
    // The fork holds the conversation up to that message's turn, not what came later.
    await page.locator(".message.user", { hasText: "Please write the plan" }).waitFor();
    expect(await page.locator(".message.user", { hasText: "Summarize" }).count()).toBe(0);
    await browser.screenshot("09-fork");
  }, SLOW);

  test("rename, search and delete conversations", async () => {
    const list = page.getByRole("navigation", { name: "Conversations" });
    const row = list.locator(".conversation-row").first();
    await row.hover();
    await row.getByRole("button", { name: /^Rename / }).click();
    const dialog = page.getByRole("dialog", { name: "Rename conversation" });
    await dialog.getByRole("textbox").fill("Planning notes");
    await dialog.getByRole("button", { name: "Rename" }).click();
    await list.getByText("Planning notes").waitFor();
    await page.locator(".chat-title", { hasText: "Planning notes" }).waitFor();
    await list.getByRole("searchbox", { name: "Search conversations" }).fill("planning");
    await eventually(async () => (await list.locator(".conversation").count()) === 1, "the search to leave one conversation", UI_TIMEOUT);
    await browser.screenshot("10-search");
    await list.getByRole("searchbox", { name: "Search conversations" }).fill("");
    const count = await list.locator(".conversation").count();
    const target = list.locator(".conversation-row", { hasText: "Planning notes" });
    await target.hover();
    await target.getByRole("button", { name: "Delete Planning notes" }).click();
    await page.getByRole("dialog", { name: "Delete “Planning notes”?" }).getByRole("button", { name: "Delete" }).click();
    await eventually(async () => (await list.locator(".conversation").count()) === count - 1, "the conversation to go", UI_TIMEOUT);
    await eventually(async () => (await list.getByText("Planning notes").count()) === 0, "the deleted title to leave the list", UI_TIMEOUT);
  }, SLOW);

  test("context usage: tokens against the model's context window, and cost", async () => {
    const usage = page.getByRole("status", { name: "Context usage" });
    await usage.waitFor();
    // The model's window is 100 000 tokens (its config); the scripted model reports real token counts.
    expect(await usage.innerText()).toMatch(/^[\d.]+K? \/ 100K \(\d+%\) · \$\d+\.\d{4}$/);
    await usage.hover(); // the exact figures are a tooltip, formatted when pointed at
    expect(await usage.getAttribute("title")).toMatch(/^Context: [\d,]+ tokens of 100,000; cost \$\d+\.\d{4}$/);
  }, SLOW);

  test("the todo list from todo.updated events, as a compact checklist", async () => {
    await send("Please make a todo list");
    const todo = page.getByRole("region", { name: "Todo list" });
    await todo.getByText("Write the tests").waitFor();
    expect(await todo.getByRole("button").innerText()).toContain("Todo 1/3");
    expect(await todo.locator(".todo.completed").innerText()).toContain("Read the plan");
    expect(await todo.locator(".todo.in_progress").innerText()).toContain("Write the tests");
    await page.getByText("Idle", { exact: true }).waitFor();
    await browser.screenshot("11-todo");
    await todo.getByRole("button").click(); // collapses to one line naming the current item
    expect(await todo.getByRole("button").innerText()).toContain("Write the tests");
    expect(await todo.locator(".todo-list").count()).toBe(0);
  }, SLOW);

  test("/export downloads the conversation as Markdown; /new opens a new conversation", async () => {
    await composer().fill("/exp");
    const [download] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
    expect(download.suggestedFilename()).toEndWith(".md");
    const markdown = readFileSync((await download.path())!, "utf8");
    expect(markdown).toContain("## You\n\nPlease make a todo list");
    expect(markdown).toContain("> todowrite:");
    const count = await page.locator(".conversation").count();
    await composer().fill("/new");
    await page.keyboard.press("Enter");
    await eventually(async () => (await page.locator(".conversation").count()) === count + 1, "a new conversation", UI_TIMEOUT);
    await page.getByRole("heading", { name: "What should we build?" }).waitFor();
  }, SLOW);

  test("find in the conversation: every message searched, the virtualized thread scrolled to each match and marked", async () => {
    // A thread long enough that its first messages are not rendered: 10 turns, 8 of them tall answers.
    const turn = async (text: string, answer: string) => {
      await send(text);
      await page.locator(".message.assistant .text-part", { hasText: answer }).first().waitFor();
      await page.getByText("Idle", { exact: true }).waitFor();
    };
    await turn("Where is the haystack needle?", "Answer to: Where is the haystack needle?");
    for (let i = 1; i <= 8; i++) await turn(`filler turn ${i}`, `Line 30 of the filler turn ${i}.`);
    await turn("one last needle", "Answer to: one last needle");
    // Then more notes than the first page holds (FIRST_PAGE, 60), added without a turn (OpenCode's noReply),
    // so that after a reload no needle is even loaded: the search must load every message first.
    await page.evaluate(async () => {
      const [, , octoSession] = location.pathname.split("/");
      const conversation = new URLSearchParams(location.search).get("c");
      for (let i = 1; i <= 64; i++) {
        const res = await fetch(`/session/${octoSession}/code/session/${conversation}/message`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ noReply: true, parts: [{ type: "text", text: `note ${i}` }] }),
        });
        if (!res.ok) throw new Error(`note ${i}: ${res.status}`);
      }
    });
    await page.reload();
    await page.locator(".message.user", { hasText: "note 64" }).waitFor();
    await page.getByText("Live", { exact: true }).waitFor();
    const first = page.locator(".message.user", { hasText: "Where is the haystack needle?" });
    expect(await first.count()).toBe(0); // not loaded, not rendered: the browser's find would miss it
    // Opened at the newest message: no "Latest" button until the thread is scrolled up, none once back.
    const latest = page.getByRole("button", { name: "Latest" });
    // Settles once the opened thread's rows are measured (a loaded machine paints estimates first).
    await eventually(async () => (await latest.count()) === 0, "no Latest button at the newest message", UI_TIMEOUT);
    await page.locator(".thread").evaluate((el) => void (el.scrollTop = el.scrollTop - 1500));
    await latest.waitFor();
    await latest.click();
    await latest.waitFor({ state: "detached" });

    /** The current mark (CSS highlight): its text, the message it is in, and whether it is inside the thread's viewport. */
    const current = () =>
      page.evaluate(() => {
        const range = [...(CSS.highlights.get("chat-search-current") ?? [])][0] as Range | undefined;
        if (!range) return null;
        const r = range.getBoundingClientRect();
        const view = document.querySelector(".thread")!.getBoundingClientRect();
        const message = range.startContainer.parentElement?.closest(".message");
        return { text: range.toString(), message: message?.className.includes("user") ? `you: ${message.querySelector(".user-bubble")?.textContent}` : `agent: ${message?.querySelector(".text-part")?.textContent}`, inView: r.height > 0 && r.top >= view.top && r.bottom <= view.bottom };
      });
    const count = page.getByRole("search", { name: "Find in conversation" }).getByRole("status");
    const expectAt = async (position: string, message: string) => {
      await eventually(async () => (await count.innerText()) === position, `the count ${position}`, UI_TIMEOUT);
      // The mark is read until the thread's scroll settles (rows above it measured as they render).
      const want = { text: "needle", message, inView: true };
      let seen: unknown = null;
      const same = async () => ((seen = await current()), JSON.stringify(seen) === JSON.stringify(want));
      await eventually(same, `match ${position} in view`, UI_TIMEOUT).catch(() => undefined);
      expect(seen).toEqual(want);
    };

    // Until the search opens, only the newest page was asked for (a `limit`); then every message is.
    const pages: string[] = [];
    const onRequest = (r: { url(): string; method(): string }) => void (/\/code\/session\/[^/]+\/message(\?|$)/.test(r.url()) && r.method() === "GET" && pages.push(r.url()));
    page.on("request", onRequest);
    await composer().click();
    await page.keyboard.press("ControlOrMeta+f");
    const box = page.getByRole("searchbox", { name: "Find in conversation" });
    await box.waitFor();
    await eventually(() => box.evaluate((el) => el === document.activeElement), "the find box focused", UI_TIMEOUT);
    await page.keyboard.type("NEEDLE");
    await expectAt("1 / 4", "you: Where is the haystack needle?");
    page.off("request", onRequest);
    expect(pages.some((url) => !new URL(url).searchParams.has("limit"))).toBe(true);
    await browser.screenshot("15-find");
    await page.keyboard.press("Enter");
    await expectAt("2 / 4", "agent: Answer to: Where is the haystack needle?");
    await page.keyboard.press("Shift+Enter");
    await expectAt("1 / 4", "you: Where is the haystack needle?");
    await page.keyboard.press("Shift+Enter"); // wraps to the last
    await expectAt("4 / 4", "agent: Answer to: one last needle");
    await page.getByRole("button", { name: "Next match" }).click(); // and round to the first
    await expectAt("1 / 4", "you: Where is the haystack needle?");
    await page.getByRole("button", { name: "Previous match" }).click();
    await page.getByRole("button", { name: "Previous match" }).click();
    await expectAt("3 / 4", "you: one last needle");

    await box.fill("no such thing anywhere");
    await count.getByText("No matches").waitFor();
    expect(await page.getByRole("button", { name: "Next match" }).isDisabled()).toBe(true);
    await box.press("Escape");
    await box.waitFor({ state: "detached" });
    expect(await page.evaluate(() => CSS.highlights.size)).toBe(0);

    // The header's button (for touch screens) opens it too; Escape closes it.
    await page.getByRole("button", { name: "Find in conversation" }).click();
    await box.fill("filler turn 3");
    await eventually(async () => (await count.innerText()) === "1 / 31", "the user text and the answer's 30 lines", UI_TIMEOUT);
    await page.keyboard.press("Escape");
    await box.waitFor({ state: "detached" });
  }, SLOW);

  test("scrolling up to older messages: a 'Loading earlier messages' row while their page is on its way", async () => {
    // The previous test's conversation has more messages than the first page. Reload it, holding the older page.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const older: string[] = [];
    const pattern = /\/code\/session\/[^/]+\/message\?.*before=/;
    await page.route(pattern, async (route) => {
      older.push(route.request().url());
      await held;
      await route.continue();
    });
    await page.reload();
    await page.locator(".message.user", { hasText: "note 64" }).waitFor();
    await page.getByText("Live", { exact: true }).waitFor();
    const toTop = () => page.locator(".thread").evaluate((el) => void (el.scrollTop = 0));
    await toTop();
    const row = page.getByRole("status").filter({ hasText: "Loading earlier messages" });
    await row.waitFor();
    expect(older).toHaveLength(1);
    expect(new URL(older[0]!).searchParams.get("limit")).toBe("200");
    await browser.screenshot("16-loading-older");
    release();
    await row.waitFor({ state: "detached" });
    await page.unroute(pattern);
    // The page arrived: the conversation's first message is reachable at the top.
    const first = page.locator(".message.user", { hasText: "Where is the haystack needle?" });
    await eventually(async () => (await toTop(), (await first.count()) > 0), "the first message at the top", UI_TIMEOUT);
    expect(await row.count()).toBe(0);
  }, SLOW);

  test("the Files panel updates live when the terminal runs touch (the file server's event stream)", async () => {
    const files = page.getByRole("tree", { name: "Workspace files" });
    await files.getByText("notes", { exact: true }).waitFor();
    expect(await files.getByText(".git", { exact: true }).count()).toBe(0); // every workspace is a repository; git's dir is hidden
    const stream = browser.failedRequests.length; // none of the stream's requests may fail
    await page.getByRole("tab", { name: "Terminal" }).click();
    const terminal = page.getByRole("region", { name: "Terminal" });
    await terminal.getByText("Connected").waitFor();
    await terminal.locator(".xterm-rows").getByText(/[#$]\s*$/).first().waitFor();
    await terminal.locator(".terminal-host").click();
    await page.keyboard.type("touch made-in-terminal.txt && mkdir -p live/dir && touch live/dir/deep.txt");
    await page.keyboard.press("Enter");
    await eventually(() => existsSync(join(workspace, "live", "dir", "deep.txt")), "the terminal's files", UI_TIMEOUT);
    await page.getByRole("tab", { name: "Files" }).click();
    // No refresh button, no reload: the file server's events brought them.
    await files.getByText("made-in-terminal.txt", { exact: true }).waitFor();
    await files.getByText("live", { exact: true }).waitFor();
    await browser.screenshot("12-live-tree");
    await page.keyboard.press("Escape");
    expect(browser.failedRequests.slice(stream).filter((r) => r.includes("/files/events"))).toEqual([]);
    // The stream is a WebSocket (it holds none of the page's six HTTP connections): one per page load (Playwright
    // reports no close for the sockets a reload ends), the current one still open.
    expect(browser.webSockets.filter((w) => w.includes("/files/events")).at(-1)).toMatch(/^\+\S+ ws:\/\/[^/]+\/session\/[^/]+\/files\/events$/);
  }, SLOW);

  test("edit a file in the editor and save it (atomic write); a change underneath is a warning, not a silent overwrite", async () => {
    const plan = () => readFileSync(join(workspace, "notes", "plan.md"), "utf8");
    const files = page.getByRole("tree", { name: "Workspace files" });
    if ((await files.getByText("plan.md", { exact: true }).count()) === 0) await files.getByText("notes", { exact: true }).click();
    await files.getByText("plan.md", { exact: true }).click();
    const viewer = page.getByRole("region", { name: "File notes/plan.md" });
    await viewer.locator(".code-text").getByText("step two").waitFor();
    await viewer.getByRole("button", { name: "Edit file" }).click();
    const editor = viewer.getByRole("textbox", { name: "Edit plan.md" });
    await editor.waitFor();
    await viewer.locator(".cm-line").first().waitFor();
    await editor.click();
    await page.keyboard.press("ControlOrMeta+End");
    await page.keyboard.type("step three\n");
    await browser.screenshot("13-editor");
    await page.keyboard.press("ControlOrMeta+s");
    await page.getByText("Saved plan.md").waitFor();
    expect(plan()).toBe("step two\nstep three\n");
    await viewer.locator(".code-text").getByText("step three").waitFor(); // back to the highlighted view

    // Edit again while the file changes underneath (as the agent or the terminal would).
    await viewer.getByRole("button", { name: "Edit file" }).click();
    await editor.click();
    await page.keyboard.press("ControlOrMeta+End");
    await page.keyboard.type("mine\n");
    writeFileSync(join(workspace, "notes", "plan.md"), "theirs\n");
    await viewer.getByRole("button", { name: "Save" }).click();
    const warning = viewer.getByRole("alert");
    await warning.getByText(/changed on disk since you opened it/).waitFor();
    expect(plan()).toBe("theirs\n"); // nothing overwritten
    await browser.screenshot("14-conflict");
    await warning.getByRole("button", { name: "Overwrite" }).click();
    // The first save's "Saved plan.md" may still be on screen, so wait for the file itself.
    await eventually(() => plan() === "step two\nstep three\nmine\n", "the overwrite to reach the disk", UI_TIMEOUT);
    expectErrors(/status of 412/); // the refused save
  }, SLOW);

  test("mention a file into the chat from the tree", async () => {
    const row = page.locator(".tree-row", { hasText: "made-in-terminal.txt" });
    await row.hover();
    await row.getByRole("button", { name: "Mention made-in-terminal.txt in the chat" }).click();
    await page.getByRole("list", { name: "Attachments" }).getByText("@made-in-terminal.txt").waitFor();
    expect(await composer().inputValue()).toBe("@made-in-terminal.txt ");
    await page.keyboard.type("is empty?");
    await page.keyboard.press("Enter");
    await eventually(() => requestFor("is empty?") !== undefined, "the prompt to reach the model", UI_TIMEOUT);
    expect(userContent(requestFor("is empty?")!).map((p) => p.text ?? "").join("\n")).toContain("made-in-terminal.txt");
    await page.getByText("Idle", { exact: true }).waitFor();
    expect(browser.cspViolations).toEqual([]); // the editor and everything above ran under the app's policy
  }, SLOW);
});
