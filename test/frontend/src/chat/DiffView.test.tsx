/**
 * The diff view (frontend/src/chat/DiffView.tsx) laid out by real Chromium with the web app's own style
 * sheets, in the order frontend/src/main.tsx loads them: in the split view every row, one side blank or
 * not, is one line high (a blank cell once took base.css's empty-state padding and stood 96 px tall).
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderToStaticMarkup } from "react-dom/server";
import { DiffView } from "../../../../frontend/src/chat/DiffView.tsx";
import { rowsFromPatch } from "../../../../frontend/src/chat/diffRows.ts";
import { CHROMIUM_COMPONENT, launchBrowser } from "../../../support/browser.ts";
import { requires } from "../../../support/requires.ts";

const haveChromium = await requires(CHROMIUM_COMPONENT, "the diff view's layout in Chromium");
const FRONTEND = join(import.meta.dir, "../../../../frontend/src");

/** The style sheets main.tsx imports, in its order. */
function appStyles(): string {
  const main = readFileSync(join(FRONTEND, "main.tsx"), "utf8");
  const sheets = [...main.matchAll(/^import "\.\/(styles\/[\w-]+\.css)";$/gm)].map((m) => m[1]!);
  expect(sheets.length).toBeGreaterThan(3);
  return sheets.map((sheet) => readFileSync(join(FRONTEND, sheet), "utf8")).join("\n");
}

const PATCH = [
  "--- a/src/app.ts",
  "+++ b/src/app.ts",
  "@@ -1,4 +1,5 @@",
  " context",
  "-export const x = 1;",
  "+export const x = 2;",
  "+export const y = 3;",
  "+export const z = 4;",
  "-gone",
  " keep",
  "",
].join("\n");

describe.skipIf(!haveChromium)("DiffView in Chromium", () => {
  test("split: rows with a blank side are as high as the others; unified rows too", async () => {
    const browser = await launchBrowser({ baseURL: "about:blank", viewport: { width: 900, height: 600 } });
    try {
      const markup = (split: boolean) => renderToStaticMarkup(<DiffView rows={rowsFromPatch(PATCH)} language="typescript" split={split} />);
      await browser.page.setContent(`<style>${appStyles()}</style><ul class="changes-list"><li>${markup(true)}</li><li>${markup(false)}</li></ul>`);
      const heights = await browser.page.$$eval(".diff-split-line", (rows) =>
        rows.map((row) => ({ blank: row.querySelectorAll(".diff-cell.blank").length, height: row.getBoundingClientRect().height })),
      );
      // context, x->x, gone->y, (blank)->z, keep: one row per pair.
      expect(heights.map((h) => h.blank)).toEqual([0, 0, 0, 1, 0]);
      const line = heights[0]!.height;
      expect(line).toBeGreaterThan(10);
      expect(line).toBeLessThan(25); // 12 px at line-height 1.55
      for (const row of heights) expect(row.height).toBeCloseTo(line, 1);
      const unified = await browser.page.$$eval(".diff-line", (rows) => rows.map((row) => row.getBoundingClientRect().height));
      expect(unified).toHaveLength(7);
      for (const height of unified) expect(height).toBeCloseTo(line, 1);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
