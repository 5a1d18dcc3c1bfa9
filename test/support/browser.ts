/**
 * Debian's Chromium driven by `playwright-core` for browser end-to-end tests (no browser download is
 * possible here; see /work/shared/notes/environment.md). Each launch gets a fresh user-data dir, so no
 * cookie, storage or cache survives between tests, and screenshots go to `test-output/screenshots/`.
 * Every page of a launched browser reports Content-Security-Policy violations ({@link watchCsp}), so each
 * browser test can check that the app runs under its policy without breaking it.
 */
import { afterEach, expect } from "bun:test";
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page, type Request } from "playwright-core";
import { type Component, notExecutable } from "./requires.ts";
import { tempDir } from "./tmp.ts";

/** Where Debian installs Chromium; override with `OCTO_TEST_CHROMIUM`. */
export const CHROMIUM = process.env.OCTO_TEST_CHROMIUM ?? "/usr/bin/chromium";

/** Chromium as a component for `requires()` (test/support/requires.ts): present when {@link CHROMIUM} is executable. */
export const CHROMIUM_COMPONENT: Component = {
  name: "Chromium",
  install: "apt-get install -y chromium (or run bash .ci/setup as root), or point OCTO_TEST_CHROMIUM at a Chromium binary",
  problem: () => notExecutable(CHROMIUM),
};

/** Screenshot directory (created on demand), under the repository's `test-output/`. */
export const SCREENSHOT_DIR = resolve(import.meta.dir, "..", "..", "test-output", "screenshots");

/** Flags for a headless, quiet, sandbox-less Chromium in CI containers. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-dev-shm-usage",
];

/**
 * Chromium's console line for a request it failed because an interface or address of the machine changed
 * (net::ERR_NETWORK_CHANGED: it fails requests still waiting for a connection; chromium issue 41465264).
 * Other tests on the machine cause it (a container engine adding a bridge or veth, the test swarm), not
 * the app: such lines stay out of {@link TestBrowser.errors}; the request is still in `failedRequests`,
 * and what the app did about the failure still shows (an error it shows, a step that does not happen).
 */
export const NETWORK_CHANGED = /^Failed to load resource: net::ERR_NETWORK_CHANGED$/;

/** A running browser with one context; `close()` ends both. */
export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors (but {@link NETWORK_CHANGED}) and uncaught page errors seen so far (for assertions and debugging). */
  errors: string[];
  /** Content-Security-Policy violations seen so far, on any page of the context ({@link watchCsp}). */
  cspViolations: string[];
  /** Every answer with status >= 400 and every failed request, as "+SECONDS STATUS METHOD URL" (seconds
   * since launch), for diagnostics. */
  failedRequests: string[];
  /** Every WebSocket a page opened, as "+SECONDS URL", with " closed at +SECONDS" once it closed. */
  webSockets: string[];
  /** Saves a full-page PNG as `test-output/screenshots/<prefix><name>.png`; answers its path. */
  screenshot(name: string, page?: Page): Promise<string>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  baseURL: string;
  /** Viewport (default 1400x900). */
  viewport?: { width: number; height: number };
  /** Prefix for screenshot names (e.g. "desktop-"). */
  screenshotPrefix?: string;
  /** Extra Chromium flags, e.g. `--host-resolver-rules=MAP attacker.test 127.0.0.1` for a cross-site host. */
  args?: string[];
}

/** Launches Chromium with a fresh profile (a persistent context in a new temp dir) and opens one page. */
export async function launchBrowser(options: LaunchOptions): Promise<TestBrowser> {
  const userDataDir = tempDir("chromium-profile-");
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    headless: true,
    baseURL: options.baseURL,
    viewport: options.viewport ?? { width: 1400, height: 900 },
    permissions: ["clipboard-read", "clipboard-write"],
  });
  const cspViolations = await watchCsp(context);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  const failedRequests: string[] = [];
  const webSockets: string[] = [];
  const started = Date.now();
  const at = () => `+${((Date.now() - started) / 1000).toFixed(1)}s`;
  const watch = (p: Page) => {
    p.on("console", (m) => m.type() === "error" && !NETWORK_CHANGED.test(m.text()) && errors.push(m.text()));
    p.on("pageerror", (e) => errors.push(String(e)));
    p.on("response", (r) => r.status() >= 400 && failedRequests.push(`${at()} ${r.status()} ${r.request().method()} ${r.url()}`));
    p.on("requestfailed", (r) => failedRequests.push(`${at()} ${r.failure()?.errorText ?? "failed"} ${r.method()} ${r.url()}`));
    p.on("framenavigated", (f) => f === p.mainFrame() && failedRequests.push(`${at()} (navigated to ${f.url()})`));
    p.on("websocket", (ws) => {
      const i = webSockets.push(`${at()} ${ws.url()}`) - 1;
      ws.on("close", () => (webSockets[i] += ` closed at ${at()}`));
    });
  };
  watch(page);
  context.on("page", watch);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    context,
    page,
    errors,
    cspViolations,
    failedRequests,
    webSockets,
    async screenshot(name, target = page) {
      const path = join(SCREENSHOT_DIR, `${options.screenshotPrefix ?? ""}${name}.png`);
      await target.screenshot({ path, fullPage: false });
      return path;
    },
    async close() {
      await context.close();
    },
  };
}

export type { Browser, BrowserContext, Page, Request };

/**
 * Fails every test of the calling describe block on a console error of the page it did not announce, with
 * the failed requests as the message. A test names the errors it provokes with the returned
 * `expectErrors(...patterns)` (each error must match one of them; reset after every test). `browser` is a
 * getter, since the browser is launched in `beforeAll`.
 */
export function failOnUnexpectedErrors(browser: () => TestBrowser): (...patterns: RegExp[]) => void {
  let checked = 0;
  let expected: RegExp[] = [];
  afterEach(() => {
    const { errors, failedRequests } = browser();
    const fresh = errors.slice(checked);
    checked = errors.length;
    const allowed = expected;
    expected = [];
    expect(fresh.filter((e) => !allowed.some((p) => p.test(e))), failedRequests.join("\n")).toEqual([]);
  });
  return (...patterns) => void (expected = patterns);
}

const REPO = resolve(import.meta.dir, "..", "..");

/** Newest modification time under `dir`, ms. */
function newest(dir: string): number {
  let latest = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, name.name);
    latest = Math.max(latest, name.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * Builds the web app (frontend/dist, which `octo serve` from source serves) unless it is newer than every
 * source file of the app. @throws Error with the build's output when it fails.
 */
export function ensureWebBuild(): void {
  const index = join(REPO, "frontend", "dist", "index.html");
  let built = 0;
  try {
    built = statSync(index).mtimeMs;
  } catch {
    // not built
  }
  const sources = Math.max(newest(join(REPO, "frontend", "src")), newest(join(REPO, "frontend", "public")), statSync(join(REPO, "frontend", "index.html")).mtimeMs);
  if (built > sources) return;
  const result = Bun.spawnSync([process.execPath, join(REPO, "scripts", "build-web.ts")], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`web build failed:\n${result.stdout}\n${result.stderr}`);
}

/** Prefix of the console line the init script of {@link watchCsp} writes for each violation. */
const CSP_MARK = "CSP violation:";

/**
 * Collects Content-Security-Policy violations of every page and frame of `context` (present and future):
 * an init script listens for `securitypolicyviolation` events (https://www.w3.org/TR/CSP3/#violation-events)
 * and reports each on the console, and Chromium's own console errors about the policy ("Refused to ...
 * because it violates the following Content Security Policy directive") are collected too.
 * @returns the live list, as "<directive> <blocked URL> (<page URL>)" or Chromium's message.
 */
export async function watchCsp(context: BrowserContext): Promise<string[]> {
  const violations: string[] = [];
  await context.addInitScript((mark: string) => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`${mark} ${e.effectiveDirective} ${e.blockedURI || "inline"} (${e.documentURI})`);
    });
  }, CSP_MARK);
  const watch = (p: Page) =>
    p.on("console", (m) => {
      const text = m.text();
      if (text.startsWith(CSP_MARK) || /Content Security Policy/i.test(text)) violations.push(text);
    });
  for (const p of context.pages()) watch(p);
  context.on("page", watch);
  return violations;
}

