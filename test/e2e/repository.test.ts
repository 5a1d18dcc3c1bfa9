/**
 * End to end, sessions on a git repository (issue 14): a real `octo serve` in local mode (bubblewrap sandbox,
 * a uid per session when run as root), real OpenCode with the scripted LLM, and real git servers on this
 * machine (`git daemon`, `git http-backend`). The clone runs inside the session's sandbox as its uid.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { CHROMIUM_COMPONENT, ensureWebBuild, launchBrowser } from "../support/browser.ts";
import { type FakeForge, startFakeGitHub } from "../support/fake-forges.ts";
import { filesBelow } from "../support/files.ts";
import { join } from "node:path";
import { bashScenario, opencodeConfig, type ScriptedLlm, startScriptedLlm, writeFileScenario } from "../support/llm.ts";
import { createOpencodeSession, openEventStream, sendPrompt, waitForIdle } from "../support/opencode.ts";
import { Api, eventually, type OctoServerProcess, processesIn, runOcto, startOcto } from "../support/octo.ts";
import { type GitServer, gitLog, knownHostsLine, makeRepository, type SshGitServer, sshKeyPair, startGitDaemon, startHttpBackend, startSshd } from "../support/git-servers.ts";
import { command, requires } from "../support/requires.ts";
import { tempDir } from "../support/tmp.ts";

// Generous: under the load of seven engineers on two cores a session start alone took 35 s here.
const SLOW = 300_000;
const haveBwrap = await requires(command("bwrap", "bubblewrap"), "sessions on a repository end to end");
const haveChromium = await requires(CHROMIUM_COMPONENT, "the Changes panel in Chromium");
const haveSsh = (await requires(command("ssh", "openssh-client"), "git over SSH end to end")) && (await requires(command("sshd", "openssh-server"), "git over SSH end to end"));

const base = tempDir("e2e-git-");
const repo = makeRepository(base, "app", { "README.md": "# app\n", "src/main.ts": "export const answer = 41;\n" });
let llm: ScriptedLlm;
let octo: OctoServerProcess;
let daemon: GitServer;
let http: GitServer;
let httpAuth: GitServer;
let github: FakeForge;
let ssh: SshGitServer;
const SSH_KEY = haveSsh ? sshKeyPair() : { privateKey: "", publicKey: "" };
const CREDENTIAL = { username: "alice-bot", token: "glpat-Zx9Qw8Er7Ty6Ui5Op4" };
const secretRepo = makeRepository(base, "private", { "secret.txt": "classified\n" });
let hanging: { url: string; stop(): void };
let user: Api;
let token = "";

beforeAll(async () => {
  if (haveChromium) ensureWebBuild();
  llm = await startScriptedLlm();
  const configFile = join(tempDir("oc-config-"), "opencode.json");
  writeFileSync(configFile, JSON.stringify(opencodeConfig(llm)));
  daemon = await startGitDaemon(base);
  if (haveSsh) ssh = await startSshd(base, SSH_KEY.publicKey);
  http = await startHttpBackend(base);
  httpAuth = await startHttpBackend(base, { username: CREDENTIAL.username, password: CREDENTIAL.token });
  // A git:// server that accepts and never answers: a clone that would take for ever.
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  hanging = { url: `git://127.0.0.1:${listener.port}/big.git`, stop: () => listener.stop(true) };
  github = startFakeGitHub({ repository: "git/private", token: CREDENTIAL.token });
  const octoConfig = join(tempDir("octo-config-"), "config.toml");
  // No [git] known_hosts: the SSH server's key is recorded on first use (<data_dir>/known_hosts).
  writeFileSync(octoConfig, `[forges.test]\nkind = "github"\nhost = "${new URL(httpAuth.url).host}"\napi_url = "${github.apiUrl}"\n`);
  octo = await startOcto({
    args: ["--config", octoConfig],
    env: {
      OCTO_OPENCODE__CONFIG_PATH: configFile,
      OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }',
      OCTO_RUNTIME__START_TIMEOUT_SECONDS: "20",
    },
  });
  const code = runOcto(["invite-codes", "generate", "--role", "admin", "--data-dir", octo.dataDir]).stdout.trim();
  const api = new Api(octo.url);
  const reg = await api.post("/api/auth/register", { username: "alice", password: "correct horse", invite_code: code });
  token = reg.json.token;
  user = api.as(token);
}, SLOW);

afterAll(async () => {
  await octo?.stop();
  await Promise.all([llm?.stop(), daemon?.stop(), http?.stop(), httpAuth?.stop(), github?.stop(), ssh?.stop()]);
  hanging?.stop();
});

const workspace = (id: string) => join(octo.dataDir, "sessions", id, "workspace");

/** One turn of the real agent in session `id`, through octo's proxy: `prompt`, answered by `scenario`. */
async function agentTurn(id: string, scenario: ReturnType<typeof writeFileScenario>, prompt: string): Promise<void> {
  const code = `${octo.url}/session/${id}/code`;
  const headers = { authorization: `Bearer ${token}` };
  const events = await openEventStream(code, headers);
  try {
    const oc = await createOpencodeSession(code, headers);
    llm.script(scenario, { sessionId: oc.id });
    await sendPrompt(code, headers, oc.id, prompt);
    await waitForIdle(events, oc.id, 90_000);
  } finally {
    events.close();
  }
}

describe.skipIf(!haveBwrap)("sessions on a repository", () => {
  test("a session from a git:// URL clones inside its sandbox, as its own uid, and records the base commit", async () => {
    const res = await user.post("/api/sessions", { name: "app", repository: { url: `${daemon.url}/app.git` } });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ status: "running", repository: { url: `${daemon.url}/app.git`, ref: null, base_commit: repo.head } });
    const dir = workspace(res.json.id);
    expect(readFileSync(join(dir, "src/main.ts"), "utf8")).toBe("export const answer = 41;\n");
    if (process.getuid?.() === 0) {
      // Written by the session's uid, not by octo (root).
      const owner = statSync(join(dir, ".git", "HEAD")).uid;
      expect(owner).not.toBe(0);
      expect(owner).toBe(statSync(dir).uid);
    }
    await user.post(`/api/sessions/${res.json.id}/stop`);
  }, SLOW);

  test("a branch over smart HTTP", async () => {
    makeRepository(base, "branchy", { "a.txt": "a\n" }, { branches: { dev: { "dev.txt": "dev\n" } } });
    const res = await user.post("/api/sessions", { repository: { url: `${http.url}/branchy.git`, ref: "dev" } });
    expect(res.status).toBe(201);
    expect(readFileSync(join(workspace(res.json.id), "dev.txt"), "utf8")).toBe("dev\n");
    await user.post(`/api/sessions/${res.json.id}/stop`);
  }, SLOW);

  test("a ref that does not exist fails the start with git's message, leaving nothing behind", async () => {
    const res = await user.post("/api/sessions", { repository: { url: `${daemon.url}/app.git`, ref: "nope" } });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.json.error).toMatch(/git clone failed: .*nope/);
    const sessions = (await user.get("/api/sessions")).json as { id: string; status: string; error: string }[];
    const failed = sessions.find((s) => s.status === "failed" && s.error.includes("nope"))!;
    expect(failed).toBeTruthy();
    expect(readdirSync(workspace(failed.id))).toEqual([]);
    expect(processesIn(join(octo.dataDir, "sessions", failed.id))).toEqual([]);
  }, SLOW);

  test("bad URLs are refused with 400 and create no session", async () => {
    const before = (await user.get("/api/sessions")).json.length;
    for (const url of ["ext::sh -c id", "file:///etc/passwd", "--upload-pack=touch /tmp/x", "/srv/x.git", "ssh://-oProxyCommand=id/x"]) {
      const res = await user.post("/api/sessions", { repository: { url } });
      expect(res.status).toBe(400);
      expect(["INVALID_REPOSITORY_URL", "VALIDATION_FAILED"]).toContain(res.json.code);
    }
    expect((await user.get("/api/sessions")).json.length).toBe(before);
  });

  test("a clone that does not end is cancelled by stopping the session", async () => {
    const res = await user.post("/api/sessions?wait=false", { repository: { url: hanging.url } });
    expect(res.status).toBe(202);
    const id = res.json.id;
    await eventually(async () => (await user.get(`/api/sessions/${id}`)).json.status_detail === "cloning", "the clone to start", 30_000);
    const stopped = await user.post(`/api/sessions/${id}/stop`);
    expect(stopped.json.status).toBe("stopped");
    expect(processesIn(join(octo.dataDir, "sessions", id))).toEqual([]);
  }, SLOW);

  test("a clone that does not end fails after [runtime] start_timeout_seconds", async () => {
    const res = await user.post("/api/sessions", { repository: { url: hanging.url } });
    expect(res.status).toBe(504);
    expect(res.json.code).toBe("SESSION_START_TIMEOUT");
    const id = ((await user.get("/api/sessions")).json as { id: string; status: string; error: string }[]).find((s) => s.status === "failed" && s.error.includes("not cloned within"))!.id;
    expect(processesIn(join(octo.dataDir, "sessions", id))).toEqual([]);
  }, SLOW);

  test("the agent edits the clone; the Changes API shows it; commit and push land in the bare repository", async () => {
    const created = await user.post("/api/sessions", { name: "edit", repository: { url: `${daemon.url}/app.git` } });
    expect(created.status).toBe(201);
    const id = created.json.id;
    const none = await user.get(`/api/sessions/${id}/changes`);
    expect(none.json).toEqual({ base: repo.head, head: repo.head, files: [], truncated: false });

    await agentTurn(id, writeFileScenario("src/main.ts", "export const answer = 42;\n", "Fixed the answer."), "Fix the answer in src/main.ts");

    const changes = await user.get(`/api/sessions/${id}/changes`);
    expect(changes.status).toBe(200);
    expect(changes.json.base).toBe(repo.head);
    const main = changes.json.files.find((f: { path: string }) => f.path === "src/main.ts");
    expect(main).toEqual({ path: "src/main.ts", status: "modified", additions: 1, deletions: 1, binary: false });
    const diff = await user.get(`/api/sessions/${id}/changes?path=src/main.ts`);
    expect(diff.json.diff).toContain("-export const answer = 41;\n+export const answer = 42;\n");
    expect((await user.get(`/api/sessions/${id}/changes?path=../../etc/passwd`)).json.code).toBe("INVALID_PATH");

    const commit = await user.post(`/api/sessions/${id}/commit`, { message: "Fix the answer", paths: ["src/main.ts"] });
    expect(commit.status).toBe(200);
    const push = await user.post(`/api/sessions/${id}/push`, { branch: "octo/fix-answer" });
    expect(push.status).toBe(200);
    expect(push.json).toMatchObject({ branch: "octo/fix-answer", commit: commit.json.commit });
    expect(gitLog(repo.path, "octo/fix-answer").map((c) => c.subject)).toEqual(["Fix the answer", "initial"]);
    expect(gitLog(repo.path, "octo/fix-answer")[0]!.id).toBe(commit.json.commit);

    const again = await user.post(`/api/sessions/${id}/push`, { branch: "octo/fix-answer" });
    expect([again.status, again.json.code]).toEqual([409, "NOTHING_TO_PUSH"]);
    const empty = await user.post(`/api/sessions/${id}/commit`, { message: "nothing", paths: ["src/main.ts"] });
    expect([empty.status, empty.json.code]).toEqual([409, "NOTHING_TO_COMMIT"]);
    const uncommitted = await user.get(`/api/sessions/${id}/changes?against=head`);
    expect(uncommitted.json.files.map((f: { path: string }) => f.path)).not.toContain("src/main.ts");
    await user.post(`/api/sessions/${id}/stop`);
    const stopped = await user.get(`/api/sessions/${id}/changes`);
    expect([stopped.status, stopped.json.code]).toEqual([409, "SESSION_STOPPED"]); // the web app offers to start it
  }, SLOW);

  test("a private repository: refused without a stored credential, cloned and pushed with it; the token is nowhere else", async () => {
    const url = `${httpAuth.url}/private.git`;
    const refused = await user.post("/api/sessions", { name: "private-refused", repository: { url } });
    expect(refused.status).toBeGreaterThanOrEqual(500);
    expect(refused.json.error).toMatch(/git clone failed: .*(Authentication failed|could not read Username|terminal prompts disabled)/);

    const host = new URL(httpAuth.url).host;
    const stored = await user.post("/api/me/git-credentials", { host, username: CREDENTIAL.username, token: CREDENTIAL.token });
    expect(stored.status).toBe(201);
    expect(stored.json).toMatchObject({ host, username: CREDENTIAL.username, kind: "https_token" });
    const listed = await user.get("/api/me/git-credentials");
    expect(listed.json).toHaveLength(1);
    expect(listed.text).not.toContain(CREDENTIAL.token);
    const bad = await user.post("/api/me/git-credentials", { host, username: "x", token: "a\nb" });
    expect(bad.status).toBe(400);

    const created = await user.post("/api/sessions", { name: "private", repository: { url } });
    expect(created.status).toBe(201);
    expect(created.json.repository.base_commit).toBe(secretRepo.head);
    const id = created.json.id;
    const root = join(octo.dataDir, "sessions", id);
    writeFileSync(join(workspace(id), "secret.txt"), "declassified\n");
    expect((await user.post(`/api/sessions/${id}/commit`, { message: "Declassify" })).status).toBe(200);
    const push = await user.post(`/api/sessions/${id}/push`, { branch: "declassify" });
    expect(push.status).toBe(200);
    expect(gitLog(secretRepo.path, "declassify")[0]!.subject).toBe("Declassify");

    // Where the token must not be: the workspace (.git/config included), the session's processes'
    // environments and command lines (OpenCode, file server, terminal), the session log, octo's own log,
    // the database file and every API answer.
    for (const file of filesBelow(workspace(id))) expect(readFileSync(join(workspace(id), file)).includes(CREDENTIAL.token)).toBe(false);
    const pids = processesIn(root);
    expect(pids.length).toBeGreaterThanOrEqual(3);
    for (const pid of pids) {
      for (const part of ["environ", "cmdline"]) {
        let content = "";
        try {
          content = readFileSync(`/proc/${pid}/${part}`, "latin1");
        } catch {
          continue; // exited meanwhile
        }
        expect(content).not.toContain(CREDENTIAL.token);
      }
    }
    expect(readFileSync(join(root, "logs", "session.log"), "utf8")).not.toContain(CREDENTIAL.token);
    expect(octo.output()).not.toContain(CREDENTIAL.token);
    expect(readFileSync(join(octo.dataDir, "octo.db")).includes(CREDENTIAL.token)).toBe(false);
    for (const path of ["/api/sessions", `/api/sessions/${id}`, `/api/sessions/${id}/changes`, "/api/me/git-credentials"]) {
      expect((await user.get(path)).text).not.toContain(CREDENTIAL.token);
    }
    await user.post(`/api/sessions/${id}/stop`);
  }, SLOW);

  test("agent may push: off, the agent's own git push is refused; on, it works", async () => {
    const url = `${httpAuth.url}/private.git`;
    const run = async (agentMayPush: boolean, branch: string) => {
      const created = await user.post("/api/sessions", { repository: { url }, agent_may_push: agentMayPush });
      expect(created.status).toBe(201);
      expect(created.json.agent_may_push).toBe(agentMayPush);
      const command = `git -c user.name=agent -c user.email=a@b commit -q --allow-empty -m agent-${branch} && git push ${url} HEAD:refs/heads/${branch}`;
      await agentTurn(created.json.id, bashScenario(command, "Pushed."), "push");
      await user.post(`/api/sessions/${created.json.id}/stop`);
      return gitLog(secretRepo.path, branch);
    };
    expect(await run(false, "agent-off")).toEqual([]);
    expect((await run(true, "agent-on"))[0]!.subject).toBe("agent-agent-on");
  }, 2 * SLOW); // two sessions, two agent turns

  test.if(haveChromium)("the Changes panel in Chromium: live list, highlighted diff, discard, commit and push", async () => {
    const bare = makeRepository(base, "panel", { "README.md": "# panel\n", "src/app.ts": "export const x = 1;\n", "notes.txt": "keep\n" });
    const created = await user.post("/api/sessions", { name: "panel", repository: { url: `${daemon.url}/panel.git` } });
    expect(created.status).toBe(201);
    const id = created.json.id;
    const browser = await launchBrowser({ baseURL: octo.url, screenshotPrefix: "changes-" });
    try {
      await browser.context.addCookies([{ name: "octo_token", value: token, url: octo.url }]);
      const page = browser.page;
      await page.goto(`/sessions/${id}`);
      await page.getByRole("tab", { name: "Changes" }).click();
      await page.getByText("No changes against the base commit.").waitFor({ timeout: 60_000 });

      // The agent edits while the panel is open: the list follows without a manual refresh.
      await agentTurn(id, writeFileScenario("src/app.ts", "export const x = 2;\nexport const y = 3;\n", "Edited."), "edit src/app.ts");
      writeFileSync(join(workspace(id), "notes.txt"), "scratch\n");
      const list = page.getByRole("list", { name: "Changed files" });
      await list.getByText("src/app.ts").waitFor({ timeout: 30_000 });
      await list.getByText("notes.txt").waitFor({ timeout: 30_000 });
      await page.getByText("2 changed").waitFor();

      // The diff, coloured by highlight.js.
      await list.getByText("src/app.ts").click();
      const diff = page.locator(".changes").getByRole("table", { name: "Diff" });
      await diff.locator(".diff-line.add").first().waitFor({ timeout: 30_000 });
      expect(await diff.locator(".diff-line.add").allInnerTexts()).toEqual([expect.stringContaining("export const x = 2;"), expect.stringContaining("export const y = 3;")]);
      expect(await diff.locator(".hljs-keyword").count()).toBeGreaterThan(0);
      await page.getByLabel("Split").check();
      await page.locator(".changes .diff-split").waitFor();
      await browser.screenshot("diff");

      // Discard asks first, then restores the file.
      await page.getByRole("button", { name: "Discard changes of notes.txt" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Discard" }).click();
      // (git may replace the file: for an instant it can be missing)
      const notes = () => {
        try {
          return readFileSync(join(workspace(id), "notes.txt"), "utf8");
        } catch {
          return null;
        }
      };
      await eventually(() => notes() === "keep\n", "notes.txt restored", 30_000);
      await page.getByText("1 changed").waitFor();

      // Prefilled from the conversation: the prompt, then the agent's answer.
      // (the chat store may still be catching up with the agent's turn after a reconnect: polled)
      await eventually(async () => (await page.getByLabel("Commit message").inputValue()) === "edit src/app.ts\n\nEdited.", "the prefilled commit message", 30_000);
      await page.getByLabel("Commit message").fill("Panel commit");
      await page.getByRole("button", { name: "Commit" }).click();
      await page.getByLabel("Branch").fill("octo/panel");
      await eventually(async () => (await user.get(`/api/sessions/${id}/changes?against=head`)).json.files.length === 0, "the commit", 30_000);
      // Every push request the page sends, with its answer once it has one (for the failure's message).
      const pushes: string[] = [];
      const clicked = Date.now();
      page.on("request", (r) => {
        if (!r.url().endsWith("/push")) return;
        const i = pushes.push(`+${Date.now() - clicked} ms ${r.method()} ${r.url()} ${r.postData() ?? ""}: no answer yet`) - 1;
        void r.response().then((res) => (pushes[i] = pushes[i]!.replace("no answer yet", `${res?.status()} after ${Date.now() - clicked} ms`)), () => undefined);
      });
      await page.getByRole("button", { name: "Push" }).click();
      await eventually(() => gitLog(bare.path, "octo/panel")[0]?.subject === "Panel commit", "the push to land", 30_000).catch(async (err) => {
        // Say why: the panel's error (git's, or a request that got no answer), the push requests, the failed requests.
        const shown = await page.locator(".push-error").allInnerTexts();
        throw new Error(`${(err as Error).message}; the panel shows ${JSON.stringify(shown)}; push requests: ${JSON.stringify(pushes)}; octo/panel holds ${JSON.stringify(gitLog(bare.path, "octo/panel").map((c) => c.subject))}; failed requests:\n${browser.failedRequests.join("\n")}`);
      });
      // A second push has nothing new: git's message is shown.
      await page.getByRole("button", { name: "Push" }).click();
      await page.getByText(/Nothing to push/).waitFor({ timeout: 30_000 });
      expect(browser.errors.filter((e) => !e.includes("409"))).toEqual([]);
    } finally {
      await browser.close();
      await user.post(`/api/sessions/${id}/stop`);
    }
  }, SLOW);

  test("open pull request: pushes the branch and creates the PR on the forge with the user's token, titled from the conversation", async () => {
    // The credential for the private host was stored by the test above.
    const created = await user.post("/api/sessions", { name: "Make it public", repository: { url: `${httpAuth.url}/private.git` } });
    expect(created.status).toBe(201);
    const id = created.json.id;
    // The real agent writes the file; its answer and the prompt become the PR's body and title.
    await agentTurn(id, writeFileScenario("public.txt", "hello\n", "Added public.txt with a greeting."), "Add a public greeting file\nKeep it short.");
    const commit = await user.post(`/api/sessions/${id}/commit`, { message: "Add public.txt" });
    expect(commit.status).toBe(200);
    const pr = await user.post(`/api/sessions/${id}/pull-request`, {});
    expect(pr.status).toBe(200);
    expect(pr.json).toEqual({ url: "https://github.example/git/private/pull/1", number: 1, base: "main", branch: `octo/${id}` });
    expect(gitLog(secretRepo.path, `octo/${id}`)[0]!.subject).toBe("Add public.txt");
    const posts = () => github.requests.filter((r) => r.method === "POST" && r.path === "/repos/git/private/pulls");
    expect(posts()).toHaveLength(1);
    expect(posts()[0]).toMatchObject({
      headers: { authorization: `token ${CREDENTIAL.token}`, accept: "application/vnd.github.v3+json" },
      body: {
        head: `octo/${id}`,
        base: "main",
        title: "Add a public greeting file",
        body: `Added public.txt with a greeting.\n\nOpened from the octo session “Make it public” (head ${commit.json.commit.slice(0, 12)}).`,
      },
    });
    // Given ones win over the conversation's (another branch: a second PR of the same head is refused).
    const explicit = await user.post(`/api/sessions/${id}/pull-request`, { title: "My title", body: "Please review.", branch: "octo/explicit" });
    expect(explicit.status).toBe(200);
    expect(posts()[1]!.body).toEqual({ head: "octo/explicit", base: "main", title: "My title", body: "Please review." });
    const onlyBody = await user.post(`/api/sessions/${id}/pull-request`, { body: "Just the body.", branch: "octo/only-body" });
    expect(onlyBody.status).toBe(200);
    expect(posts()[2]!.body).toMatchObject({ title: "Add a public greeting file", body: "Just the body." });
    expect((await user.get(`/api/sessions/${id}`)).json.pull_request_url).toBe(onlyBody.json.url);
    const again = await user.post(`/api/sessions/${id}/pull-request`, {});
    expect([again.status, again.json.code]).toEqual([409, "PULL_REQUEST_REFUSED"]);
    expect(again.json.error).toContain("A pull request already exists");
    await user.post(`/api/sessions/${id}/stop`);

    const other = await user.post("/api/sessions", { repository: { url: `${daemon.url}/app.git` } });
    const none = await user.post(`/api/sessions/${other.json.id}/pull-request`, {});
    expect([none.status, none.json.code]).toEqual([409, "NO_FORGE"]);
    await user.post(`/api/sessions/${other.json.id}/stop`);
  }, SLOW);

  test.if(haveSsh)("an SSH key stored for the host clones and pushes over ssh://, inside the sandbox; the host key is recorded on first use and checked after", async () => {
    const url = `${ssh.url}/private.git`;
    const host = new URL(ssh.url.replace("ssh://", "http://")).host;
    const record = join(octo.dataDir, "known_hosts");
    expect(existsSync(record)).toBe(false);
    const refused = await user.post("/api/sessions", { repository: { url } });
    expect(refused.status).toBeGreaterThanOrEqual(500);
    expect(refused.json.error).toMatch(/git clone failed: .*(Permission denied|Could not read from remote)/);
    // That first contact recorded sshd's host key (ssh-keyscan, run by octo, not by the session).
    expect(readFileSync(record, "utf8")).toBe(knownHostsLine(ssh));
    const stored = await user.post("/api/me/git-credentials", { host, ssh_private_key: SSH_KEY.privateKey });
    expect(stored.status).toBe(201);
    expect(stored.json).toMatchObject({ host, kind: "ssh_key", username: "" });
    const created = await user.post("/api/sessions", { repository: { url } });
    expect(created.status).toBe(201);
    expect(created.json.repository.base_commit).toBe(secretRepo.head);
    const id = created.json.id;
    writeFileSync(join(workspace(id), "ssh.txt"), "over ssh\n");
    expect((await user.post(`/api/sessions/${id}/commit`, { message: "Over ssh" })).status).toBe(200);
    expect((await user.post(`/api/sessions/${id}/push`, { branch: "over-ssh" })).status).toBe(200);
    expect(gitLog(secretRepo.path, "over-ssh")[0]!.subject).toBe("Over ssh");
    expect(ssh.log()).toMatch(/Accepted publickey for \S+ from 127\.0\.0\.1/);
    const line = SSH_KEY.privateKey.split("\n")[1]!;
    for (const file of filesBelow(join(octo.dataDir, "sessions", id))) {
      expect(readFileSync(join(octo.dataDir, "sessions", id, file)).includes(line)).toBe(false);
    }
    expect((await user.get("/api/me/git-credentials")).text).not.toContain(line);

    // The server comes back on the same port with another host key: the push and a new clone are refused
    // before ssh logs in, with a message naming the mismatch; nothing lands, no session is left running.
    writeFileSync(join(workspace(id), "ssh.txt"), "again\n");
    expect((await user.post(`/api/sessions/${id}/commit`, { message: "After the key changed" })).status).toBe(200);
    await ssh.stop();
    ssh = await startSshd(base, SSH_KEY.publicKey, { port: ssh.port });
    const mismatch = `SSH host key mismatch: [127.0.0.1]:${ssh.port} sent the ED25519 key SHA256:`;
    const push = await user.post(`/api/sessions/${id}/push`, { branch: "over-ssh" });
    expect([push.status, push.json.code]).toEqual([409, "PUSH_REJECTED"]);
    expect(push.json.error).toStartWith(mismatch);
    expect(gitLog(secretRepo.path, "over-ssh").map((c) => c.subject)).toEqual(["Over ssh", "initial"]);
    const again = await user.post("/api/sessions", { repository: { url } });
    expect(again.status).toBeGreaterThanOrEqual(500);
    expect(again.json.error).toContain(mismatch);
    const failed = ((await user.get("/api/sessions")).json as { id: string; status: string; error: string }[]).find((s) => s.status === "failed" && s.error.includes(mismatch))!;
    expect(readdirSync(workspace(failed.id))).toEqual([]);
    expect(processesIn(join(octo.dataDir, "sessions", failed.id))).toEqual([]);
    expect(ssh.log()).not.toContain("Accepted publickey");
    // The record still holds the first key: a changed key is never recorded over it.
    expect(readFileSync(record, "utf8")).not.toBe(knownHostsLine(ssh));
    await user.post(`/api/sessions/${id}/stop`);
  }, SLOW);
});
