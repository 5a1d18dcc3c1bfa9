/**
 * `bun bench/chat.ts [--messages N] [--out DIR]`: how the chat copes with a long conversation (issue 16).
 * A real `octo serve` whose session runs bench/transcript-upstream.ts as its OpenCode (a conversation of
 * N messages, default 2 000, half of the answers with a bash tool card and a code block), opened in
 * Debian's Chromium through octo's proxy like a user would. Measured in the page:
 * - time to first render: navigation start until the newest message is in the DOM (ms; seen by a
 *   MutationObserver in the page, and as Playwright's wait saw it, which polls and came 50-300 ms later);
 * - frame times (requestAnimationFrame deltas, ms) while scrolling the thread from the bottom to the top,
 *   and while an answer streams in (200 `message.part.delta` events, one every 25 ms);
 * - find in the conversation: from typing a query matching only the first message to its mark in view (ms).
 * Target (issue 16): first render under 1 s, no frame over 50 ms while streaming. Prints a table and writes
 * `chat-<timestamp>.json` to `--out` (default bench/results). Never fails on a time.
 * `BENCH_VERBOSE=1` prints every request before the first render; `BENCH_PROFILE=1` samples the page's CPU
 * (Chromium's `Profiler` over CDP, 1 ms) from navigation to the first render and while an answer streams,
 * and prints the functions with the most self time (build the web app with `npx vite build --minify false`
 * in frontend/ first for readable names).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ensureWebBuild, launchBrowser } from "../test/support/browser.ts";
import { startBenchOcto } from "./lib/fixture.ts";
import { percentile, round } from "./lib/stats.ts";

const { values } = parseArgs({ options: { messages: { type: "string", default: "2000" }, out: { type: "string" } } });
const messages = Number(values.messages);
process.env.BENCH_TRANSCRIPT_MESSAGES = String(messages);

/** p50, p95, max and count over 50 ms of frame deltas. */
const frameStats = (deltas: number[]) => ({
  frames: deltas.length,
  p50_ms: round(percentile(deltas, 50), 1),
  p95_ms: round(percentile(deltas, 95), 1),
  max_ms: round(Math.max(...deltas), 1),
  over_50ms: deltas.filter((d) => d > 50).length,
});

ensureWebBuild();
const bench = await startBenchOcto({
  benchUpstream: true,
  upstreamScript: join(import.meta.dir, "transcript-upstream.ts"),
  env: { OCTO_OPENCODE__ENV: `{ BENCH_TRANSCRIPT_MESSAGES = "${messages}" }` },
});
const browser = await launchBrowser({ baseURL: bench.octo.url });
try {
  const { id } = await bench.createSession("bench-chat");
  await browser.context.addCookies([{ name: "octo_token", value: bench.token, url: bench.octo.url }]);
  const { page } = browser;
  page.setDefaultTimeout(300_000);
  const profiling = Boolean(process.env.BENCH_PROFILE);
  const cdp = profiling ? await browser.context.newCDPSession(page) : null;
  // Main-thread time until the first render, from Chromium's own task accounting (CDP
  // Performance.getMetrics: TaskDuration, ScriptDuration, LayoutDuration, RecalcStyleDuration, seconds):
  // steadier than the wall-clock time on a shared machine, and not disturbed by a sampling profiler.
  const metrics = await browser.context.newCDPSession(page);
  await metrics.send("Performance.enable", { timeDomain: "threadTicks" });
  /** Starts sampling; the returned function stops and prints the top self times under `title`. */
  const profile = async (title: string) => {
    if (!cdp) return async () => {};
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 1000 });
    await cdp.send("Profiler.start");
    return async () => {
      const { profile: p } = await cdp.send("Profiler.stop");
      const byId = new Map(p.nodes.map((n) => [n.id, n]));
      const self = new Map<string, number>();
      const deltas = p.timeDeltas ?? [];
      (p.samples ?? []).forEach((id, i) => {
        const f = byId.get(id)!.callFrame;
        const name = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}`;
        self.set(name, (self.get(name) ?? 0) + (deltas[i + 1] ?? 0) / 1000);
      });
      // Busy (not idle) ms per 100 ms since sampling started, and the busiest function of each slice.
      const slices: { busy: number; fns: Map<string, number> }[] = [];
      let t = 0;
      (p.samples ?? []).forEach((id, i) => {
        t += (deltas[i] ?? 0) / 1000;
        const f = byId.get(id)!.callFrame;
        if (f.functionName === "(idle)") return;
        const slot = (slices[Math.floor(t / 100)] ??= { busy: 0, fns: new Map() });
        const ms = (deltas[i + 1] ?? 0) / 1000;
        slot.busy += ms;
        const name = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}`;
        slot.fns.set(name, (slot.fns.get(name) ?? 0) + ms);
      });
      if (process.env.BENCH_PROFILE === "slices")
        slices.forEach((sl, i) => sl && console.error(`${String(i * 100).padStart(6)} ms: busy ${sl.busy.toFixed(0).padStart(3)} ms; ${[...sl.fns].sort((x, y) => y[1] - x[1]).slice(0, 3).map(([n, ms]) => `${n} ${ms.toFixed(0)}`).join(", ")}`));
      const top = [...self].filter(([n]) => !n.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, 25);
      console.error(`\n# CPU self time, ${title} (ms)`);
      for (const [name, ms] of top) console.error(`${ms.toFixed(1).padStart(8)}  ${name}`);
    };
  };
  const last = `msg_${String(messages - 1).padStart(6, "0")}_0`;
  // The first render as the page sees it, noted by a MutationObserver installed before navigation. The
  // bench then awaits the observer's promise rather than a Playwright locator, whose wait polls the DOM in
  // the page's main thread (its selector engine was 60 ms of the first render's CPU profile).
  await page.addInitScript((selector) => {
    const w = window as { benchFirstRender?: number; benchFirstRendered?: Promise<number> };
    w.benchFirstRendered = new Promise((done) => {
      new MutationObserver((_, observer) => {
        if (!document.querySelector(selector)) return;
        w.benchFirstRender = performance.now();
        observer.disconnect();
        done(w.benchFirstRender);
      }).observe(document, { subtree: true, childList: true });
    });
  }, `[data-message-id="${last}"]`);
  // Every request as Playwright saw it, long-lived streams included (resource timing lists a request only
  // once it has ended), for BENCH_VERBOSE's timeline.
  const seen: import("playwright-core").Request[] = [];
  page.on("request", (r) => void seen.push(r));
  const stopLoadProfile = await profile("navigation to first render");
  await page.goto(`/sessions/${id}`);
  await page
    .evaluate(() => Promise.race([(window as { benchFirstRendered?: Promise<number> }).benchFirstRendered, new Promise((_, fail) => setTimeout(() => fail(new Error("the newest message was not rendered within 300 s")), 300_000))]))
    .catch(async (err) => {
      await page.screenshot({ path: "/tmp/chat-bench.png" });
      console.error(browser.failedRequests.slice(-10).join("\n"), browser.errors.slice(-5).join("\n"));
      throw err;
    });
  const seenMs = await page.evaluate(() => performance.now());
  const firstRenderMs = await page.evaluate(() => (window as { benchFirstRender?: number }).benchFirstRender ?? Number.NaN);
  const busy = Object.fromEntries((await metrics.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const mainThread = { task_ms: round((busy.TaskDuration ?? 0) * 1000, 0), script_ms: round((busy.ScriptDuration ?? 0) * 1000, 0), layout_and_style_ms: round(((busy.LayoutDuration ?? 0) + (busy.RecalcStyleDuration ?? 0)) * 1000, 0) };
  await stopLoadProfile();
  // Where the time went: the app's code loaded, the transcript's answer received (ms since navigation).
  const timeline = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
    const transcript = (performance.getEntriesByType("resource") as PerformanceResourceTiming[]).find((e) => /\/session\/[^/]+\/message(\?|$)/.test(new URL(e.name).pathname.replace(/^.*\/code/, "")));
    return { dom_content_loaded_ms: nav?.domContentLoadedEventEnd ?? 0, transcript_received_ms: transcript?.responseEnd ?? 0, transcript_bytes: transcript?.encodedBodySize ?? 0 };
  });
  // Every request the page made before the first render: where the serial chain of requests went.
  const requests = await page.evaluate((until) =>
    (performance.getEntriesByType("resource") as PerformanceResourceTiming[])
      .filter((e) => e.startTime <= until)
      .map((e) => ({ url: new URL(e.name).pathname + new URL(e.name).search, start_ms: Math.round(e.startTime), end_ms: Math.round(e.responseEnd), bytes: e.encodedBodySize })),
  firstRenderMs);
  const rendered = await page.locator(".thread .message").count();
  // Streams (and anything else still open at the first render): start and response headers, ms since navigation.
  const origin = await page.evaluate(() => performance.timeOrigin);
  const open = seen
    .map((r) => ({ url: new URL(r.url()).pathname, t: r.timing() }))
    .filter(({ url, t }) => t.startTime > 0 && !requests.some((q) => q.url.split("?")[0] === url))
    .map(({ url, t }) => ({ url, start_ms: Math.round(t.startTime - origin), headers_ms: t.responseStart >= 0 ? Math.round(t.startTime - origin + t.responseStart) : null }));

  /** Records rAF deltas in the page while `action` runs there (a function body as text), for `ms`. */
  const record = (ms: number, action: string) =>
    page.evaluate(
      ({ ms, action }) =>
        new Promise<number[]>((done) => {
          const deltas: number[] = [];
          let previous = performance.now();
          const end = previous + ms;
          const step = new Function(action) as () => void;
          const tick = (t: number) => {
            deltas.push(t - previous);
            previous = t;
            step();
            if (t < end) requestAnimationFrame(tick);
            else done(deltas);
          };
          requestAnimationFrame(tick);
        }),
      { ms, action },
    );
  const scroll = await record(4000, `const s = document.querySelector(".thread"); if (s) s.scrollTop = Math.max(0, s.scrollTop - 600);`);
  await page.evaluate(() => {
    const s = document.querySelector(".thread");
    if (s) s.scrollTop = s.scrollHeight;
  });
  await page.evaluate((sid) => fetch(`/session/${sid}/code/bench/stream`, { method: "POST" }), id);
  const stopStreamProfile = await profile("while an answer streams");
  const streaming = await record(5200, "");
  await stopStreamProfile();
  // Find in the conversation: from typing a query that matches only the first message to its mark in view.
  await page.getByRole("textbox", { name: "Message", exact: true }).click();
  await page.keyboard.press("ControlOrMeta+f");
  await page.getByRole("searchbox", { name: "Find in conversation" }).waitFor();
  const findMs = await page.evaluate(
    () =>
      new Promise<number>((done) => {
        const box = document.querySelector<HTMLInputElement>("input[aria-label='Find in conversation']")!;
        const start = performance.now();
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")!.set!.call(box, "Step 0:");
        box.dispatchEvent(new Event("input", { bubbles: true }));
        const tick = () => {
          const range = [...(CSS.highlights.get("chat-search-current") ?? [])][0] as Range | undefined;
          const view = document.querySelector(".thread")!.getBoundingClientRect();
          const r = range?.getBoundingClientRect();
          if (r && r.height > 0 && r.top >= view.top && r.bottom <= view.bottom) done(performance.now() - start);
          else requestAnimationFrame(tick);
        };
        tick();
      }),
  );
  const results = {
    at: new Date().toISOString(),
    messages,
    rendered_messages: rendered,
    first_render_ms: round(firstRenderMs, 0),
    first_render_seen_by_playwright_ms: round(seenMs, 0),
    main_thread_until_first_render: mainThread,
    app_loaded_ms: round(timeline.dom_content_loaded_ms, 0),
    transcript_received_ms: round(timeline.transcript_received_ms, 0),
    transcript_bytes: timeline.transcript_bytes,
    requests,
    scroll: frameStats(scroll),
    streaming: frameStats(streaming),
    find_first_message_ms: round(findMs, 0),
  };
  console.log(`## chat with ${messages} messages\n`);
  console.log("| measure | value |\n| --- | --- |");
  console.log(`| time to first render | ${results.first_render_ms} ms (${rendered} messages in the DOM; Playwright saw it at ${results.first_render_seen_by_playwright_ms} ms) |`);
  console.log(`| main thread busy until then | ${mainThread.task_ms} ms (script ${mainThread.script_ms} ms, layout and style ${mainThread.layout_and_style_ms} ms) |`);
  console.log(`| of which: app loaded, transcript received | ${results.app_loaded_ms} ms, ${results.transcript_received_ms} ms (${(results.transcript_bytes / 1e6).toFixed(1)} MB) |`);
  for (const [name, s] of [["scrolling", results.scroll], ["streaming", results.streaming]] as const) {
    console.log(`| frames while ${name} | p50 ${s.p50_ms} ms · p95 ${s.p95_ms} ms · max ${s.max_ms} ms · ${s.over_50ms} of ${s.frames} over 50 ms |`);
  }
  console.log(`| find: query typed to the first message's match in view | ${results.find_first_message_ms} ms |`);
  if (process.env.BENCH_VERBOSE) {
    for (const r of requests) console.log(`${String(r.start_ms).padStart(6)} ${String(r.end_ms).padStart(6)} ${String(r.bytes).padStart(8)} ${r.url}`);
    for (const r of open) console.log(`${String(r.start_ms).padStart(6)} ${String(r.headers_ms ?? "-").padStart(6)}   (open) ${r.url}`);
  }
  const out = resolve(values.out ?? join(import.meta.dir, "results"));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `chat-${results.at.replace(/[:.]/g, "-")}.json`), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await browser.close();
  await bench.stop();
}
