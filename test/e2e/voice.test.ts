/**
 * Voice mode end to end: Debian's Chromium with a fake microphone that plays a WAV of espeak-ng speech
 * (`--use-file-for-fake-audio-capture`), against a real `octo serve` with `[voice] enabled` pointing at the
 * fake eaRS and kokorox servers (test/support/voice-fakes.ts), whose session runs real OpenCode driven by
 * the scripted LLM. What a person does: click Talk, speak, see the transcript become a prompt, hear the
 * streamed answer sentence by sentence, then dictate into the message box and have a message read aloud.
 * Also: octo without a voice server says the browser's own speech is used. Screenshots: voice-*.png.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, CHROMIUM_COMPONENT, ensureWebBuild, SCREENSHOT_DIR, watchCsp } from "../support/browser.ts";
import { lastUserText, opencodeConfig, reply, type ScriptedLlm, startScriptedLlm } from "../support/llm.ts";
import { type OctoServerProcess, runOcto, startOcto } from "../support/octo.ts";
import { requires } from "../support/requires.ts";
import { tempDir } from "../support/tmp.ts";
import { type FakeEars, type FakeKokoro, scriptInOrder, startFakeEars, startFakeKokoro, writeSpeechWav } from "../support/voice-fakes.ts";

const SLOW = 180_000;
const UI_TIMEOUT = 60_000;
const SPOKEN = "please list the files";
const ANSWER = "There are two files here. One is **notes.md** and the other is `todo.txt`. Shall I open one?";

let llm: ScriptedLlm;
let ears: FakeEars;
let kokoro: FakeKokoro;
let octo: OctoServerProcess;
let context: BrowserContext;
let page: Page;
let configFile: string;
const pageErrors: string[] = [];
/** Content-Security-Policy violations of the main browser, over the whole run. */
let cspViolations: string[] = [];

/**
 * Chromium whose microphone plays `wav` once (then silence). With `allowMicrophone: false` the permission is
 * neither granted nor prompted for, so `getUserMedia` is refused as when a person blocks it.
 */
async function launchWithMicrophone(baseURL: string, wav: string, allowMicrophone = true): Promise<BrowserContext> {
  return chromium.launchPersistentContext(tempDir("chromium-voice-"), {
    executablePath: CHROMIUM,
    headless: true,
    baseURL,
    viewport: { width: 1300, height: 850 },
    permissions: allowMicrophone ? ["microphone"] : [],
    args: [
      ...CHROMIUM_ARGS,
      "--use-fake-device-for-media-stream",
      ...(allowMicrophone ? ["--use-fake-ui-for-media-stream"] : ["--deny-permission-prompts"]),
      `--use-file-for-fake-audio-capture=${wav}%noloop`,
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
}

/** Registers `username` through the API in the browser's cookie jar, creates a running session, opens it. */
async function signInWithSession(target: Page, server: OctoServerProcess, username: string): Promise<string> {
  const invite = runOcto(["invite-codes", "generate", "--data-dir", server.dataDir]).stdout.trim();
  const registered = await target.request.post("/api/auth/register", { data: { username, password: "correct horse battery", invite_code: invite } });
  expect(registered.status()).toBe(201);
  const created = await target.request.post("/api/sessions", { data: { name: "voice" }, timeout: UI_TIMEOUT });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  await target.goto(`/sessions/${id}`);
  await target.getByLabel("Message", { exact: true }).waitFor();
  await target.getByText("Live", { exact: true }).waitFor();
  return id;
}

const panel = () => page.locator(".voice-panel");
const shot = (name: string, target = page) => target.screenshot({ path: join(SCREENSHOT_DIR, `voice-${name}.png`) });

const haveChromium = await requires(CHROMIUM_COMPONENT, "voice mode in Chromium against octo serve and fake voice servers");

describe.skipIf(!haveChromium)("voice mode in Chromium against octo serve and fake voice servers", () => {
  beforeAll(async () => {
    ensureWebBuild();
    const wav = await writeSpeechWav(join(tempDir("voice-wav-"), "speech.wav"), SPOKEN, 0.6, 8);
    ears = await startFakeEars();
    kokoro = await startFakeKokoro({ chunkDelayMs: 30 });
    llm = await startScriptedLlm({
      script: (request) => (lastUserText(request).includes("list the files") ? reply.text(ANSWER, { delayMs: 60 }) : reply.text("I can help with that.")),
    });
    configFile = join(tempDir("oc-config-"), "opencode.json");
    writeFileSync(configFile, JSON.stringify(opencodeConfig(llm)));
    octo = await startOcto({
      env: {
        OCTO_OPENCODE__CONFIG_PATH: configFile,
        OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }',
        OCTO_VOICE__ENABLED: "true",
        OCTO_VOICE__STT_URL: ears.url,
        OCTO_VOICE__TTS_URL: kokoro.url,
        OCTO_VOICE__DEFAULT_VOICE: "bf_emma",
        OCTO_VOICE__VAD_TIMEOUT_MS: "800",
        OCTO_VOICE__INTERRUPT_WORD_COUNT: "3",
      },
    });
    context = await launchWithMicrophone(octo.url, wav.path);
    cspViolations = await watchCsp(context);
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(UI_TIMEOUT);
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    await signInWithSession(page, octo, "alice");
  }, SLOW);

  afterAll(async () => {
    await context?.close();
    await octo?.stop();
    await llm?.stop();
    await ears?.stop();
    await kokoro?.stop();
  });

  test("features: voice on, with the configured defaults", async () => {
    const features = (await (await page.request.get("/api/features")).json()) as { voice: Record<string, unknown> };
    expect(features.voice).toMatchObject({ enabled: true, default_voice: "bf_emma", vad_timeout_ms: 800, interrupt_word_count: 3 });
  });

  test("talk: speech -> transcript -> prompt -> streamed answer spoken sentence by sentence -> listening again", async () => {
    ears.script = scriptInOrder(SPOKEN);
    const llmBefore = llm.agentRequests().length;
    await page.getByRole("button", { name: "Talk" }).click();
    await page.locator('.voice-panel[data-phase="listening"]').waitFor();
    await shot("01-listening");

    // The fake microphone's speech reaches eaRS through octo as 24 kHz Float32 frames and becomes words.
    await ears.waitFor(() => ears.words.length >= 4, UI_TIMEOUT, "words from the fake eaRS");
    const stt = ears.connections.at(-1)!;
    expect(stt.binary.length).toBeGreaterThan(10);
    expect(stt.binary.every((frame) => frame.byteLength % 4 === 0)).toBe(true);
    expect(stt.commands).toContainEqual({ type: "resume" });
    expect(stt.headers.cookie).toBeUndefined();
    expect(ears.utterances[0]!.duration).toBeGreaterThan(0.5); // the whole spoken phrase, at 24 kHz

    // After vad_timeout_ms of silence the transcript is sent as the prompt.
    await llm.waitForRequest((r) => r.kind === "agent" && lastUserText(r) === SPOKEN, UI_TIMEOUT);
    expect(llm.agentRequests().length).toBeGreaterThan(llmBefore);
    await page.locator(".message.user", { hasText: SPOKEN }).waitFor();

    // The streamed answer is synthesised sentence by sentence, with the user's default voice.
    await kokoro.waitFor(() => kokoro.syntheses.length >= 3 && kokoro.syntheses.every((s) => s.completed), UI_TIMEOUT, "three syntheses");
    expect(kokoro.syntheses.map((s) => s.text)).toEqual(["There are two files here.", "One is notes.md and the other is todo.txt.", "Shall I open one?"]);
    expect(kokoro.syntheses.every((s) => s.voice === "bf_emma" && s.speed === 1)).toBe(true);
    await page.locator('.voice-panel[data-phase="speaking"]').waitFor();
    await shot("02-speaking");

    // Every chunk is played to the end, then voice mode listens again (continuous).
    await page.waitForFunction(() => Number(document.querySelector(".voice-panel")?.getAttribute("data-played")) >= 3, undefined, { timeout: UI_TIMEOUT });
    await page.locator('.voice-panel[data-phase="listening"]').waitFor();
    await shot("03-listening-again");
    await page.getByRole("button", { name: "Stop voice", exact: true }).click();
    await panel().waitFor({ state: "detached" });
    await ears.waitFor(() => ears.connections.at(-1)!.closed, 10_000, "the eaRS socket to close");
    expect(ears.connections.at(-1)!.commands.at(-1)).toEqual({ type: "stop" });
  }, SLOW);

  test("speaking over the agent stops its speech, and those words become the next prompt", async () => {
    ears.script = scriptInOrder(SPOKEN);
    const playedBefore = Number((await page.evaluate(() => document.querySelector(".voice-panel")?.getAttribute("data-played"))) ?? 0);
    const synthesesBefore = kokoro.syntheses.length;
    await page.getByRole("button", { name: "Talk" }).click();
    await page.locator('.voice-panel[data-phase="speaking"]').waitFor();
    const firstPlayed = Number(await panel().getAttribute("data-played"));
    ears.say("wait stop now"); // three words: interrupt_word_count is 3
    await page.locator('.voice-panel[data-phase="listening"]').waitFor({ timeout: 5000 });
    await shot("04-interrupted");
    await llm.waitForRequest((r) => r.kind === "agent" && lastUserText(r) === "wait stop now", UI_TIMEOUT);
    await kokoro.waitFor(() => kokoro.syntheses.slice(synthesesBefore).some((s) => s.text === "I can help with that." && s.completed), UI_TIMEOUT, "the second answer");
    await page.locator('.voice-panel[data-phase="listening"]').waitFor();
    // The first answer was cut short: fewer of its three sentences were played than were synthesised.
    const played = Number(await panel().getAttribute("data-played"));
    expect(firstPlayed).toBeGreaterThanOrEqual(playedBefore);
    expect(played - firstPlayed).toBeLessThanOrEqual(3);
    await page.getByRole("button", { name: "Stop voice", exact: true }).click();
    await panel().waitFor({ state: "detached" });
  }, SLOW);

  test("dictation fills the message box without sending", async () => {
    ears.script = scriptInOrder("add a readme file");
    const llmBefore = llm.agentRequests().length;
    await page.getByRole("button", { name: "Dictate" }).click();
    await page.locator('.voice-panel[data-mode="dictation"]').waitFor();
    await page.waitForFunction(() => (document.querySelector("textarea[aria-label=Message]") as HTMLTextAreaElement | null)?.value.includes("readme file"), undefined, { timeout: UI_TIMEOUT });
    await shot("05-dictation");
    await page.getByRole("button", { name: "Stop dictation" }).click();
    expect(await page.getByLabel("Message", { exact: true }).inputValue()).toBe("add a readme file");
    expect(llm.agentRequests().length).toBe(llmBefore);
    await page.getByLabel("Message", { exact: true }).fill("");
  }, SLOW);

  test("read aloud: the answer's sentences are synthesised and played; voice and speed are saved per user", async () => {
    // Change voice and speed in the settings menu (it lists kokorox's voices), then read the answer.
    await page.getByRole("button", { name: "Dictate" }).click();
    await page.getByLabel("Voice settings").click();
    await page.getByLabel("Voice", { exact: true }).selectOption("am_adam");
    await page.getByLabel("Speaking speed").fill("1.5");
    await shot("06-settings");
    await page.getByRole("button", { name: "Stop dictation" }).click();
    const saved = await page.evaluate(() => Object.entries(localStorage).filter(([k]) => k.startsWith("octo.voice.")));
    expect(saved.length).toBe(1);
    expect(JSON.parse(saved[0]![1])).toEqual({ voice: "am_adam", speed: 1.5 });

    const before = kokoro.syntheses.length;
    const answer = page.locator(".message.assistant", { hasText: "There are two files here" }).first();
    await answer.getByRole("button", { name: "Read aloud" }).click();
    await kokoro.waitFor(() => kokoro.syntheses.length >= before + 3 && kokoro.syntheses.every((s) => s.completed), UI_TIMEOUT, "read-aloud syntheses");
    const read = kokoro.syntheses.slice(before);
    expect(read.map((s) => s.text)).toEqual(["There are two files here.", "One is notes.md and the other is todo.txt.", "Shall I open one?"]);
    expect(read.every((s) => s.voice === "am_adam" && s.speed === 1.5)).toBe(true);
    await answer.getByRole("button", { name: "Read aloud" }).waitFor(); // back from "Stop reading"
    expect(pageErrors).toEqual([]);
    // Talking, dictating and reading aloud (the microphone's AudioWorklet included) ran under the app's CSP.
    expect(cspViolations).toEqual([]);
  }, SLOW);

  test("a blocked microphone is explained", async () => {
    const blocked = await launchWithMicrophone(octo.url, join(tempDir("no-wav-"), "missing.wav"), false);
    try {
      const p = blocked.pages()[0] ?? (await blocked.newPage());
      p.setDefaultTimeout(UI_TIMEOUT);
      const login = await p.request.post("/api/auth/login", { data: { username: "alice", password: "correct horse battery" } });
      expect(login.status()).toBe(200);
      await p.goto(page.url());
      await p.getByText("Live", { exact: true }).waitFor();
      await p.getByRole("button", { name: "Dictate" }).click();
      await p.getByRole("alert").filter({ hasText: "Microphone access is blocked for this site" }).waitFor();
      await shot("07-microphone-blocked", p);
    } finally {
      await blocked.close();
    }
  }, SLOW);

  test("a voice server that is down: a clear error at once, not a hang", async () => {
    await ears.stop();
    await page.getByRole("button", { name: "Talk" }).click();
    await page.getByRole("alert").filter({ hasText: "The speech-to-text server is not answering" }).waitFor({ timeout: 15_000 });
    expect(await page.locator(".voice-panel").getAttribute("data-mode")).toBe("off");
    await shot("08-voice-server-down");
  }, SLOW);

  test("without a voice server: the browser's own speech is used, and the page says so", async () => {
    const plain = await startOcto({ env: { OCTO_OPENCODE__CONFIG_PATH: configFile, OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }' } });
    const other = await launchWithMicrophone(plain.url, join(tempDir("no-wav-"), "missing.wav"));
    try {
      const p = other.pages()[0] ?? (await other.newPage());
      p.setDefaultTimeout(UI_TIMEOUT);
      await signInWithSession(p, plain, "bob");
      const features = (await (await p.request.get("/api/features")).json()) as { voice: { enabled: boolean } };
      expect(features.voice.enabled).toBe(false);
      const disabled = await p.request.get("/api/voice/stt");
      expect([disabled.status(), ((await disabled.json()) as { code: string }).code]).toEqual([404, "VOICE_DISABLED"]);
      await p.getByRole("button", { name: "Talk" }).click();
      await p.getByText("No voice server is configured on this octo server", { exact: false }).waitFor();
      await shot("09-browser-fallback", p);
    } finally {
      await other.close();
      await plain.stop();
    }
  }, SLOW);
});
