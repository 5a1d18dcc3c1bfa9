/**
 * Debian's Chromium driven by `playwright-core` for browser end-to-end tests (no browser download is
 * possible here; see /work/shared/notes/environment.md). Each launch gets a fresh user-data dir, so no
 * cookie, storage or cache survives between tests, and screenshots go to `test-output/screenshots/`.
 */
import { mkdirSync } from "node:fs";
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

/** A running browser with one context; `close()` ends both. */
export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far (for assertions and debugging). */
  errors: string[];
  /** Every answer with status >= 400 and every failed request, as "+SECONDS STATUS METHOD URL" (seconds
   * since launch), for diagnostics. */
  failedRequests: string[];
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
}

/** Launches Chromium with a fresh profile (a persistent context in a new temp dir) and opens one page. */
export async function launchBrowser(options: LaunchOptions): Promise<TestBrowser> {
  const userDataDir = tempDir("chromium-profile-");
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    baseURL: options.baseURL,
    viewport: options.viewport ?? { width: 1400, height: 900 },
    permissions: ["clipboard-read", "clipboard-write"],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  const failedRequests: string[] = [];
  const started = Date.now();
  const at = () => `+${((Date.now() - started) / 1000).toFixed(1)}s`;
  const watch = (p: Page) => {
    p.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    p.on("pageerror", (e) => errors.push(String(e)));
    p.on("response", (r) => r.status() >= 400 && failedRequests.push(`${at()} ${r.status()} ${r.request().method()} ${r.url()}`));
    p.on("requestfailed", (r) => failedRequests.push(`${at()} ${r.failure()?.errorText ?? "failed"} ${r.method()} ${r.url()}`));
    p.on("framenavigated", (f) => f === p.mainFrame() && failedRequests.push(`${at()} (navigated to ${f.url()})`));
  };
  watch(page);
  context.on("page", watch);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    context,
    page,
    errors,
    failedRequests,
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
