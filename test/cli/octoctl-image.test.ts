/**
 * `octoctl image build` (compiled dist/octoctl) against octo's image route (`server/modules/image`), served
 * in this process together with the real auth routes over a real database, and a real container engine
 * (Podman, see test/support/podman.ts). The build runs for real: streamed output, `--no-cache`, `--json`,
 * one build at a time, admins only, and an unreachable engine. The egress proxy image is checked (and
 * built when missing or stale) after the session image.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { OctoConfig } from "../../server/config/schema.ts";
import { createAdmission } from "../../server/app.ts";
import { errorResponse, normalizeError } from "../../server/http/error-response.ts";
import type { AuditService } from "../../server/modules/audit/service.ts";
import { authRoutes } from "../../server/modules/auth/index.ts";
import type { AuthService } from "../../server/modules/auth/service.ts";
import { imageRoutes } from "../../server/modules/image/index.ts";
import { openDataDir } from "../../server/server.ts";
import { createAuthServices } from "../../server/services.ts";
import type { Engine } from "../../server/runtime/engine.ts";
import { defaultEgressImageTag } from "../../server/runtime/egress-image.ts";
import { CONTAINER_ENGINE, testEngine, testImage } from "../support/podman.ts";
import { requires } from "../support/requires.ts";
import { tempDir } from "../support/tmp.ts";
import { BUILD_TIMEOUT_MS, ensureBinaries, freshConfigHome, OCTOCTL, octoctl } from "./binaries.ts";

const BUILD = 600_000;
const tag = `octo-session-test:cli${Date.now().toString(36)}`;

interface TestServer {
  url: string;
  stop(): void;
}

const engine: Engine | null = await testEngine();
const haveEngine = await requires(CONTAINER_ENGINE, "octoctl image build on a real engine");
let good: TestServer;
let noEngine: TestServer;
const home = { admin: "", user: "" };

/** octo's auth routes and the image route on a free port, over one database. */
async function serve(socket: string, users: { auth: AuthService; audit: AuditService }): Promise<TestServer> {
  const config = OctoConfig.parse({ container: { image: tag, socket } });
  const app = new Elysia()
    .onError(({ code, error }) => errorResponse(normalizeError(code, error)))
    .use(authRoutes(createAdmission(users.auth, config), { secureCookies: false, audit: users.audit }))
    .use(imageRoutes({ config, admission: createAdmission(users.auth, config) }))
    .all("/api/*", () => errorResponse(normalizeError("NOT_FOUND", null)))
    .listen({ port: 0, hostname: "127.0.0.1" });
  return { url: `http://127.0.0.1:${app.server!.port}`, stop: () => void app.stop(true) };
}

beforeAll(async () => {
  await ensureBinaries();
  const db = openDataDir(tempDir("octo-image-data-"));
  const { invites, auth, audit } = createAuthServices(OctoConfig.parse({}), { db, secret: "x".repeat(64) });
  await auth.register({ username: "admin", password: "admin-password", invite_code: invites.create({ role: "admin" }, null).code });
  await auth.register({ username: "user", password: "user-password", invite_code: invites.create({ role: "user" }, null).code });
  good = await serve(engine?.socket ?? "", { auth, audit });
  noEngine = await serve("/nonexistent/podman.sock", { auth, audit });
  home.admin = freshConfigHome();
  home.user = freshConfigHome();
  for (const [who, password] of [["admin", "admin-password"], ["user", "user-password"]] as const) {
    const r = await octoctl(["login", "-u", who, "--server", good.url], { env: { XDG_CONFIG_HOME: home[who] }, stdin: `${password}\n` });
    expect(r.code).toBe(0);
  }
  // The base image (and the suite's session image, whose cached layers this build reuses).
  if (engine) await testImage(engine);
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  good?.stop();
  noEngine?.stop();
  await engine?.docker.getImage(tag).remove().catch(() => {});
});

describe("octoctl image build", () => {
  test("only admins may build", async () => {
    const r = await octoctl(["image", "build"], { env: { XDG_CONFIG_HOME: home.user } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("octoctl: Admins only\n");
  });

  test("an engine that does not answer is reported before anything is built", async () => {
    const r = await octoctl(["image", "build", "--server", noEngine.url], { env: { XDG_CONFIG_HOME: home.admin } });
    // The login was stored for the other server's URL.
    expect(r.stderr).toContain(`not logged in to ${noEngine.url}`);
    const login = await octoctl(["login", "-u", "admin", "--server", noEngine.url], { env: { XDG_CONFIG_HOME: home.admin }, stdin: "admin-password\n" });
    expect(login.code).toBe(0);
    const again = await octoctl(["image", "build", "--server", noEngine.url, "--json"], { env: { XDG_CONFIG_HOME: home.admin } });
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr)).toMatchObject({ code: "ENGINE_UNAVAILABLE" });
    expect(again.stderr).toContain("unix:///nonexistent/podman.sock");
  });

  test.if(haveEngine)("a build streams the engine's output; a second build at the same time is refused", async () => {
    const env = { XDG_CONFIG_HOME: home.admin, OCTO_SERVER_URL: good.url };
    const proc = Bun.spawn([OCTOCTL, "image", "build", "--no-cache"], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
    const stdout = new Response(proc.stdout).text();
    // Read stderr until the server says the build started, then try a second build.
    let stderr = "";
    const reader = proc.stderr.getReader();
    while (!stderr.includes("Building ")) {
      const { done, value } = await reader.read();
      if (done) break;
      stderr += new TextDecoder().decode(value);
    }
    const second = await octoctl(["image", "build"], { env });
    expect(second.code).toBe(1);
    expect(second.stderr).toBe("octoctl: An image build is already running on this server; wait for it to finish\n");
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      stderr += new TextDecoder().decode(value);
    }
    const r = { code: await proc.exited, stdout: await stdout, stderr };
    expect(r.stderr).not.toContain("octoctl:");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^Building ${tag.replace(/[.]/g, "\\.")} on podman [\\d.]+ without cache…$`, "m"));
    expect(r.stdout).toMatch(/STEP \d+\/\d+: FROM/);
    expect(r.stdout).toContain("COPY octo /usr/local/bin/octo");
    expect(r.stderr).toMatch(new RegExp(`^Built ${tag.replace(/[.]/g, "\\.")} \\([0-9a-f]{12}\\) in [\\d.]+ s\\.$`, "m"));
    const info = await engine!.docker.getImage(tag).inspect();
    expect(info.Config.Labels?.["octo.inputs"]).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stdout).toContain(`Egress proxy image ${defaultEgressImageTag()}: checking its inputs`);
    expect(r.stderr).toMatch(new RegExp(`^Egress proxy image ${defaultEgressImageTag().replace(/[.]/g, "\\.")}: (built|up to date)\\.$`, "m"));
    const egress = await engine!.docker.getImage(defaultEgressImageTag()).inspect();
    expect(egress.Config.Labels?.["octo.egress-inputs"]).toMatch(/^[0-9a-f]{64}$/);
  }, BUILD);

  test.if(haveEngine)("--json passes the build events through, one JSON object per line", async () => {
    const r = await octoctl(["image", "build", "--json"], { env: { XDG_CONFIG_HOME: home.admin, OCTO_SERVER_URL: good.url }, timeoutMs: BUILD });
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({ type: "start", tag, engine: "podman", no_cache: false });
    expect(events.slice(1, -1).every((e) => e.type === "progress" && typeof e.line === "string")).toBe(true);
    const done = events.at(-1);
    expect(done).toMatchObject({ type: "done", tag, egress: { tag: defaultEgressImageTag(), built: false } });
    expect(done.id).toBe((await engine!.docker.getImage(tag).inspect()).Id);
  }, BUILD);
});
