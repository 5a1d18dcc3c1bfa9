/**
 * End to end: personal access tokens drive an octo session with OpenCode's own clients, through octo's
 * proxy, as the issue asks: `opencode run --attach URL -u alice -p octo_pat_... "prompt"` runs a prompt in
 * the session, and the TUI `opencode attach URL -u alice -p octo_pat_...` (in a real PTY) sends one typed by
 * the user. Revoking the token closes the TUI's open connections and refuses it from then on.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { lastUserText, opencodeConfig, type ScriptedLlm, startScriptedLlm, writeFileScenario } from "../support/llm.ts";
import { isolatedOpencodeEnv, OPENCODE_BIN } from "../support/opencode.ts";
import { Api, eventually, type OctoServerProcess, startOcto } from "../support/octo.ts";
import { tempDir } from "../support/tmp.ts";

const SLOW = 180_000;

/** Terminal output without escape sequences and with runs of white space as one space. */
const plain = (text: string) => text.replace(/\x1b\[[0-9;?>$]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1bP[^\x1b]*\x1b\\|\r/g, "").replace(/\s+/g, " ");

let llm: ScriptedLlm;
let octo: OctoServerProcess;
let alice: Api;
let sessionId = "";
let pat = "";
let patId = "";

beforeAll(async () => {
  llm = await startScriptedLlm();
  // Every turn writes the file its prompt names ("write NAME") and answers "Wrote NAME.".
  llm.script((request) => {
    const name = /write ([\w.-]+)/.exec(lastUserText(request))?.[1] ?? "unnamed.txt";
    return writeFileScenario(name, `written for ${name}\n`, `Wrote ${name}.`)(request);
  });
  const configFile = join(tempDir("oc-config-"), "opencode.json");
  writeFileSync(configFile, JSON.stringify(opencodeConfig(llm)));
  octo = await startOcto({ env: { OCTO_OPENCODE__CONFIG_PATH: configFile, OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }' } });
  const api = new Api(octo.url);
  const reg = await api.post("/api/auth/register", { username: "alice", password: "correct horse", invite_code: octo.firstInvite });
  expect(reg.status).toBe(201);
  alice = api.as(reg.json.token);
  const session = await alice.post("/api/sessions", { name: "attach" });
  expect(session.status).toBe(201);
  sessionId = session.json.id;
  const token = await alice.post("/api/tokens", { name: "opencode", scopes: ["sessions:write"] });
  expect(token.status).toBe(201);
  pat = token.json.token;
  patId = token.json.id;
}, SLOW);

afterAll(async () => {
  await octo?.stop();
  await llm?.stop();
});

const workspace = () => join(octo.dataDir, "sessions", sessionId, "workspace");
const codeUrl = () => `${octo.url}/session/${sessionId}/code`;

describe("OpenCode's own clients through octo's proxy with an access token", () => {
  test("opencode run --attach URL -u alice -p TOKEN runs a prompt in the session", async () => {
    const home = tempDir("oc-client-");
    const run = Bun.spawn([OPENCODE_BIN, "run", "--attach", codeUrl(), "-u", "alice", "-p", pat, "write from-run.txt"], {
      env: isolatedOpencodeEnv(home),
      cwd: home,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, out, err] = await Promise.all([run.exited, new Response(run.stdout).text(), new Response(run.stderr).text()]);
    expect({ code, err: code === 0 ? "" : err }).toEqual({ code: 0, err: "" });
    expect(out + err).toContain("Wrote file successfully");
    expect(readFileSync(join(workspace(), "from-run.txt"), "utf8")).toBe("written for from-run.txt\n");
  }, SLOW);

  test("a wrong user name or a login password is refused before anything reaches OpenCode", async () => {
    const home = tempDir("oc-client-");
    const seen = llm.requests.length;
    const run = Bun.spawn([OPENCODE_BIN, "run", "--attach", codeUrl(), "-u", "mallory", "-p", pat, "write refused.txt"], {
      env: isolatedOpencodeEnv(home),
      cwd: home,
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => run.kill("SIGKILL"), 60_000);
    await run.exited;
    clearTimeout(timer);
    expect(run.exitCode).not.toBe(0);
    expect(existsSync(join(workspace(), "refused.txt"))).toBe(false);
    expect(llm.requests.slice(seen).filter((r) => r.kind === "agent")).toEqual([]);
  }, SLOW);

  test("opencode attach (the TUI, in a PTY) sends a typed prompt; revoking the token closes its connections", async () => {
    const home = tempDir("oc-tui-");
    let screen = "";
    const tui = Bun.spawn([OPENCODE_BIN, "attach", codeUrl(), "-u", "alice", "-p", pat], {
      env: isolatedOpencodeEnv(home, { TERM: "xterm-256color" }),
      cwd: home,
      terminal: {
        cols: 120,
        rows: 40,
        data(_term, bytes) {
          screen = (screen + new TextDecoder().decode(bytes)).slice(-200_000);
        },
      },
    });
    try {
      // The TUI is up once it has drawn its prompt box (it loaded the session's agents and models through octo).
      await eventually(() => plain(screen).includes("Ask anything"), `the TUI to draw; screen: ${plain(screen).slice(-500)}`, 90_000);
      await eventually(() => plain(screen).includes("Mock"), "the TUI to show the session's model", 30_000);
      tui.terminal!.write("write from-tui.txt");
      await eventually(() => plain(screen).includes("write from-tui.txt"), "the typed prompt to show", 30_000);
      tui.terminal!.write("\r");
      await eventually(() => existsSync(join(workspace(), "from-tui.txt")), `the TUI's prompt to run; screen: ${screen.slice(-500)}`, 90_000);
      expect(readFileSync(join(workspace(), "from-tui.txt"), "utf8")).toBe("written for from-tui.txt\n");

      const before = octo.output().length;
      const revoked = await alice.delete(`/api/tokens/${patId}`);
      expect(revoked.json.status).toBe("revoked");
      // Its event stream (and any other open request) is closed by octo, which logs each one.
      await eventually(() => /connection closed.*reason=revoked/.test(octo.output().slice(before)), "octo to close the TUI's connections", 10_000);
      const after = await fetch(`${codeUrl()}/session`, { headers: { authorization: `Basic ${Buffer.from(`alice:${pat}`).toString("base64")}` } });
      expect(after.status).toBe(401);
    } finally {
      tui.kill("SIGKILL");
      await tui.exited;
    }
  }, SLOW);
});
