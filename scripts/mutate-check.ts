/**
 * Mutation check of octo's safety code: breaks one guard at a time in a temporary copy of the repository,
 * runs the test files that should notice, and reports whether they did (pattern: mutation testing as in
 * Stryker or mutmut, reduced to a hand-written list of the regressions that matter here).
 *
 *   npx bun scripts/mutate-check.ts             every mutation
 *   npx bun scripts/mutate-check.ts NAME...     only these (names from --list)
 *   npx bun scripts/mutate-check.ts --list      the mutations, their files and test files
 *   npx bun scripts/mutate-check.ts --keep      keep the temporary copy (its path is printed)
 *
 * How: the working tree (tracked and untracked files that git does not ignore, so uncommitted changes are
 * included) is copied to a temporary directory with `node_modules` symlinked. First each distinct set of
 * test files runs once unmutated (the baseline: it must pass, or a failure under mutation would prove
 * nothing). Then each mutation replaces its search texts (each must occur exactly once in the file), runs
 * its test files with `bun test --timeout 120000` and `CI=true` (a missing component fails rather than
 * skips), and restores the file. Outcomes, one line each:
 *   CAUGHT          some test failed; the failing tests are listed
 *   MISSED          every test passed with the guard broken
 *   STALE           a search text is not in the file (exactly once): the code moved, update the list
 *   BASELINE FAILS  the test files fail even without the mutation
 * Exit code 0 when every mutation was caught, 1 otherwise, 2 for usage errors.
 *
 * Adding a mutation: append to MUTATIONS with the smallest edit that removes one check, and the test files
 * that are meant to guard it. Keep the test files few and fast; each mutation runs them once.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

/** One text replacement in a file. */
interface Edit {
  search: string;
  replace: string;
}

export interface Mutation {
  /** Short kebab-case name, for the command line. */
  name: string;
  /** What the mutation breaks, in words. */
  breaks: string;
  /** File to change, relative to the repository root. */
  file: string;
  /** Replacements applied together (each search text must occur exactly once). */
  edits: Edit[];
  /** Test files (relative paths) that must notice. */
  tests: string[];
}

const PROXY = "server/proxy/session-proxy.ts";
const PROXY_TESTS = ["test/server/proxy/session-proxy.test.ts"];
const INVITE_TESTS = ["test/server/modules/invites/service.test.ts"];
/** InviteService.consume's single conditional UPDATE, which two mutations split into a read and a write. */
const CONSUME_UPDATE = `const row = this.db
      .query(
        \`UPDATE invite_codes SET uses = uses + 1
         WHERE code_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND uses < max_uses
         RETURNING id, role\`,
      )
      .get(hashInviteCode(code), Date.now()) as { id: string; role: Role } | null;`;

export const MUTATIONS: Mutation[] = [
  // ---- the four regressions of issue 19 --------------------------------------------------------------
  {
    name: "proxy-signature-only",
    breaks: "the session proxy checks only the JWT's signature: no revocation (logout), disabled, password-reset or deleted-user check",
    file: PROXY,
    edits: [
      {
        search: "const principal = await this.deps.auth.authenticate(found?.token);",
        replace:
          'const claims = found?.token ? await (this.deps.auth as any).tokens.verify(found.token) : null; if (!claims) throw new OctoError(401, "UNAUTHORIZED", "Not logged in"); const principal = { user: { id: claims.sub as string } };',
      },
    ],
    tests: [...PROXY_TESTS],
  },
  {
    name: "invite-select-then-update",
    breaks: "invite consumption reads the use count, then increments it in a second statement",
    file: "server/modules/invites/service.ts",
    edits: [
      {
        search: CONSUME_UPDATE,
        replace: `const row = this.db
      .query(
        \`SELECT id, role FROM invite_codes
         WHERE code_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND uses < max_uses\`,
      )
      .get(hashInviteCode(code), Date.now()) as { id: string; role: Role } | null;
    if (row) this.db.query("UPDATE invite_codes SET uses = uses + 1 WHERE id = ?").run(row.id);`,
      },
    ],
    tests: [...INVITE_TESTS],
  },
  {
    name: "invite-lost-update",
    breaks: "invite consumption reads the use count and writes back count + 1 (a lost update under concurrency)",
    file: "server/modules/invites/service.ts",
    edits: [
      {
        search: CONSUME_UPDATE,
        replace: `const row = this.db
      .query(
        \`SELECT id, role, uses FROM invite_codes
         WHERE code_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND uses < max_uses\`,
      )
      .get(hashInviteCode(code), Date.now()) as { id: string; role: Role; uses: number } | null;
    if (row) this.db.query("UPDATE invite_codes SET uses = ? WHERE id = ?").run(row.uses + 1, row.id);`,
      },
    ],
    tests: [...INVITE_TESTS],
  },
  {
    name: "register-without-transaction",
    breaks: "registration consumes the invite and inserts the user without a transaction",
    file: "server/modules/auth/service.ts",
    edits: [
      { search: "const user = this.db.transaction(() => {", replace: "const user = (() => {" },
      { search: "    }).immediate();\n    log.info(\"registered\"", replace: "    })();\n    log.info(\"registered\"" },
    ],
    tests: [...INVITE_TESTS, "test/server/modules/auth/service.test.ts"],
  },
  {
    name: "paths-missing-link-checks",
    breaks: "path confinement drops both the `..`-after-a-missing-component check and the final inside-root check",
    file: "fileserver/paths.ts",
    edits: [
      { search: '      if (queue.some((s) => s === "..")) throw traversal();\n', replace: "" },
      { search: "  if (!isInside(realRoot, current)) throw traversal();\n", replace: "" },
    ],
    tests: ["test/fileserver/paths.test.ts", "test/fileserver/security.test.ts"],
  },
  {
    name: "local-stop-no-final-sigkill",
    breaks: "LocalRuntime.stop does not SIGKILL the sandbox (and its init) when the graceful stop timed out",
    file: "server/runtime/local.ts",
    edits: [{ search: "    if (forced) await this.kill(local.pid, local.init);\n", replace: "" }],
    tests: ["test/server/runtime/local.test.ts"],
  },
  {
    name: "local-stop-no-final-wait",
    breaks: "LocalRuntime.stop returns before the killed sandbox's init (and so its namespace) is gone",
    file: "server/runtime/local.ts",
    edits: [
      {
        search: "    for (const deadline = Date.now() + KILL_WAIT_MS; init !== pid && running(init) && Date.now() < deadline; ) await Bun.sleep(20);\n",
        replace: "",
      },
    ],
    tests: ["test/server/runtime/local.test.ts"],
  },
  {
    name: "local-no-lifeline",
    breaks: "a local session no longer dies with octo (no lifeline pipe)",
    file: "server/runtime/local.ts",
    edits: [{ search: '      OCTO_LIFELINE_FD: "6",\n', replace: "" }],
    tests: ["test/server/runtime/local.test.ts"],
  },
  {
    name: "sandbox-keeps-capabilities",
    breaks: "the sandbox keeps its capabilities (no --cap-drop ALL)",
    file: "server/runtime/sandbox.ts",
    edits: [
      { search: '? [...common, "--cap-drop", "ALL", "--cap-add"', replace: '? [...common, "--cap-add"' },
      { search: ': [...common, "--unshare-user", "--disable-userns", "--cap-drop", "ALL"];', replace: ': [...common, "--unshare-user", "--disable-userns"];' },
    ],
    tests: ["test/server/runtime/local.test.ts"],
  },
  {
    name: "sandbox-root-stays-root",
    breaks: "a root octo's sessions keep running as root (no setpriv to the session's uid)",
    file: "server/runtime/sandbox.ts",
    edits: [{ search: "      if (root) {\n        // CAP_SETPCAP", replace: "      if (false) {\n        // CAP_SETPCAP" }],
    tests: ["test/server/runtime/local.test.ts"],
  },
  {
    name: "sandbox-whole-host",
    breaks: "the sandbox shows the whole host file system (a deny-list instead of the allow-list)",
    file: "server/runtime/sandbox.ts",
    edits: [{ search: '"--hostname", spec.hostname, ...systemBinds()]', replace: '"--hostname", spec.hostname, "--dev-bind", "/", "/", ...systemBinds()]' }],
    tests: ["test/server/runtime/local.test.ts"],
  },
  {
    name: "sandbox-allows-user-namespaces",
    breaks: "the seccomp filter lets unshare(CLONE_NEWUSER) through",
    file: "server/runtime/seccomp.ts",
    edits: [{ search: "    /* 13 */ [RET_K, 0, 0, RET_ERRNO | EPERM],", replace: "    /* 13 */ [RET_K, 0, 0, RET_ALLOW]," }],
    tests: ["test/server/runtime/local.test.ts"],
  },
  {
    name: "single-user-not-enforced",
    breaks: "without a sandbox, a second account can still be made",
    file: "server/modules/invites/service.ts",
    edits: [{ search: "    if (!this.options.singleUser) return;", replace: "    return;" }],
    tests: ["test/server/modules/invites/service.test.ts"],
  },
  // ---- more guards --------------------------------------------------------------------------------------
  {
    name: "proxy-no-ownership",
    breaks: "the session proxy lets any logged-in user into any session",
    file: PROXY,
    edits: [{ search: "if (!route || route.userId !== principal.user.id)", replace: "if (!route)" }],
    tests: [...PROXY_TESTS],
  },
  {
    name: "proxy-no-origin-check",
    breaks: "the session proxy accepts cross-origin WebSocket upgrades and cookie-authenticated writes",
    file: PROXY,
    edits: [{ search: 'if ((upgrade || (found?.source === "cookie" && !isSafeMethod(req.method))) &&', replace: "if (false &&" }],
    tests: [...PROXY_TESTS],
  },
  {
    name: "proxy-forwards-octo-cookie",
    breaks: "the session proxy forwards octo's token cookie to the session's services",
    file: PROXY,
    edits: [{ search: 'const cookie = stripTokenCookie(header(req, "cookie"));', replace: 'const cookie = header(req, "cookie");' }],
    tests: [...PROXY_TESTS],
  },
  {
    name: "proxy-forwards-token-query",
    breaks: "the session proxy forwards the `?token=` query parameter (octo's credential) upstream",
    file: PROXY,
    edits: [{ search: '    params.delete("token");\n', replace: "" }],
    tests: [...PROXY_TESTS],
  },
  {
    name: "proxy-forwards-authorization",
    breaks: "the session proxy forwards the client's Authorization header instead of the session's own",
    file: PROXY,
    edits: [
      { search: "    delete req.headers.authorization;\n", replace: "" },
      {
        search: "this.proxy.web(req, res, { target: resolved.target, headers: { authorization: resolved.authorization } });",
        replace: "this.proxy.web(req, res, { target: resolved.target });",
      },
    ],
    tests: [...PROXY_TESTS],
  },
  {
    name: "proxy-keeps-client-waiting",
    breaks: "an upstream dying mid-answer leaves the client's response open (http-proxy-3's default)",
    file: PROXY,
    edits: [{ search: "        if (!proxyRes.complete) res.destroy();\n", replace: "" }],
    tests: ["test/server/proxy/upstream-death.test.ts"],
  },
  {
    name: "sessions-no-ownership",
    breaks: "the session API lets a user read, stop, start and delete another user's session",
    file: "server/modules/sessions/service.ts",
    edits: [{ search: 'if (!row || row.user_id !== userId) throw notFound("Session not found", "SESSION_NOT_FOUND");', replace: 'if (!row) throw notFound("Session not found", "SESSION_NOT_FOUND");' }],
    tests: ["test/server/modules/sessions/service.test.ts"],
  },
  {
    name: "sessions-poller-survives-shutdown",
    breaks: "shutdown leaves the liveness poller running",
    file: "server/modules/sessions/service.ts",
    edits: [{ search: "    if (this.pollTimer) clearInterval(this.pollTimer);\n", replace: "" }],
    tests: ["test/server/modules/sessions/service.test.ts"],
  },
  {
    name: "sessions-second-poller",
    breaks: "each startPolling call adds another interval timer",
    file: "server/modules/sessions/service.ts",
    edits: [{ search: "    if (this.pollTimer) return;\n", replace: "" }],
    tests: ["test/server/modules/sessions/service.test.ts"],
  },
  {
    name: "auth-ignores-logout",
    breaks: "a logged-out (revoked) token still authenticates",
    file: "server/modules/auth/service.ts",
    edits: [{ search: 'if (this.isRevoked.get(claims.jti)) throw unauthorized("This token was logged out", "INVALID_TOKEN");', replace: "" }],
    tests: ["test/server/modules/auth/service.test.ts"],
  },
  {
    name: "auth-ignores-disabled",
    breaks: "a disabled account's token still authenticates",
    file: "server/modules/auth/service.ts",
    edits: [{ search: 'if (row.disabled) throw unauthorized("This account is disabled", "ACCOUNT_DISABLED");', replace: "" }],
    tests: ["test/server/modules/auth/service.test.ts"],
  },
  {
    name: "auth-ignores-password-reset",
    breaks: "tokens issued before a password reset still authenticate",
    file: "server/modules/auth/service.ts",
    edits: [{ search: 'if (claims.issuedAtMs < row.tokens_not_before) throw unauthorized("Invalid or expired token", "INVALID_TOKEN");', replace: "" }],
    tests: ["test/server/modules/users/service.test.ts"],
  },
  {
    name: "api-admin-check-off",
    breaks: "admin routes accept any logged-in user",
    file: "server/http/auth-plugin.ts",
    edits: [{ search: 'if (adminOnly && user.role !== "admin") throw forbidden("Admins only", "ADMIN_ONLY");', replace: "" }],
    tests: ["test/server/app.test.ts"],
  },
  {
    name: "api-csrf-check-off",
    breaks: "the API accepts cross-origin cookie-authenticated writes",
    file: "server/http/auth-plugin.ts",
    edits: [{ search: 'if (found?.source === "cookie" && !isSafeMethod(request.method)) {', replace: "if (false) {" }],
    tests: ["test/server/app.test.ts"],
  },
  {
    name: "service-token-not-checked",
    breaks: "the file server and terminal accept any service token",
    file: "common/service-auth.ts",
    edits: [{ search: "return presented !== null && tokensEqual(presented, token);", replace: "return true;" }],
    tests: ["test/common/service-auth.test.ts", "test/terminal/server.test.ts"],
  },
  {
    name: "web-asset-traversal",
    breaks: "the web app's asset paths may contain `..` (after percent-decoding)",
    file: "server/web/policy.ts",
    edits: [{ search: 'if (decoded.split("/").some((segment) => segment === ".." || segment === ".")) return null;', replace: "" }],
    tests: ["test/server/web/index.test.ts"],
  },
  {
    name: "terminal-dispose-keeps-shell",
    breaks: "closing a terminal session (slow client, socket closed) ends it without killing the shell",
    file: "terminal/session.ts",
    edits: [{ search: "disposing ??= killSession(proc.pid)", replace: "disposing ??= Promise.resolve()" }],
    tests: ["test/terminal/slow.test.ts", "test/terminal/cleanup.test.ts"],
  },
  {
    name: "seal-without-filter",
    breaks: "`octo seal` (a session container's entrypoint) installs no seccomp filter: user namespaces can be made",
    file: "server/runtime/seal.ts",
    edits: [{ search: "const filter = userNamespaceFilter();", replace: "const filter = null as Uint8Array | null;" }],
    tests: ["test/server/runtime/seal.test.ts"],
  },
  {
    name: "seal-keeps-secrets-in-env",
    breaks: "`octo seal` leaves the secrets in the environment, where /proc/1/environ shows them",
    file: "server/runtime/seal.ts",
    edits: [{ search: "if (isSecretVariable(name)) {", replace: "if (false) {" }],
    tests: ["test/server/runtime/seal.test.ts"],
  },
  {
    name: "image-entrypoint-unsealed",
    breaks: "the session image starts the entrypoint without `octo seal`",
    file: "container/Dockerfile",
    edits: [
      {
        search: 'ENTRYPOINT ["/usr/local/bin/octo", "seal", "--", "/usr/local/bin/octo-entrypoint"]',
        replace: 'ENTRYPOINT ["/usr/local/bin/octo-entrypoint"]',
      },
    ],
    tests: ["test/e2e/container-attacks.test.ts"],
  },
  {
    name: "reconcile-spares-crashed-starts",
    breaks: "boot reconcile keeps the containers of sessions a crash caught mid-start (every row counts as live)",
    file: "server/modules/sessions/service.ts",
    edits: [{ search: "this.runtime.removeOrphans(new Set(reattached))", replace: "this.runtime.removeOrphans(new Set(rows.map((r) => r.id)))" }],
    tests: ["test/e2e/container-attacks.test.ts"],
  },
  {
    name: "users-last-admin",
    breaks: "the last enabled admin can be demoted or disabled",
    file: "server/modules/users/service.ts",
    edits: [{ search: "if (admins <= 1) throw badRequest(", replace: "if (false) throw badRequest(" }],
    tests: ["test/server/modules/users/service.test.ts"],
  },
  {
    name: "migrate-step-by-step",
    breaks: "an upgrade commits each migration on its own, so a failing later one leaves the database between two releases",
    file: "server/db/database.ts",
    edits: [
      {
        search: "for (let version = current + 1; version <= migrations.length; version++) db.exec(migrations[version - 1]!);",
        replace:
          "for (let version = current + 1; version <= migrations.length; version++) { db.exec(migrations[version - 1]!); db.exec(`PRAGMA user_version = ${version}`); db.exec(\"COMMIT\"); db.exec(\"BEGIN IMMEDIATE\"); }",
      },
    ],
    tests: ["test/server/db/database.test.ts"],
  },
  // ---- swarm mode (issue 18) -----------------------------------------------------------------------
  {
    name: "swarm-orphans-any-instance",
    breaks: "swarm orphan removal lists every octo service in the swarm, not only this instance's",
    file: "server/runtime/swarm.ts",
    edits: [{ search: 'label: ["octo.session", `octo.instance=${this.instance}`]', replace: 'label: ["octo.session"]' }],
    tests: ["test/server/runtime/swarm.test.ts"],
  },
  {
    name: "swarm-no-node-pin",
    breaks: "a restarted swarm session may land on another node than the one holding its volume (files lost)",
    file: "server/runtime/swarm.ts",
    edits: [{ search: "if (pinnedNode && s.pin_to_node) constraints.push", replace: "if (false) constraints.push" }],
    tests: ["test/e2e/swarm.test.ts"],
  },
  {
    name: "swarm-stop-returns-early",
    breaks: "stopping a swarm session returns while its task still runs (a restart could meet the old services)",
    file: "server/runtime/swarm.ts",
    edits: [{ search: "        if (task === null) break;", replace: "        break;" }],
    tests: ["test/server/runtime/swarm.test.ts"],
  },
  // ---- session lifecycle (issue 13) ------------------------------------------------------------------
  {
    name: "idle-stop-ignores-busy-agent",
    breaks: "the idle watch no longer counts the agent's busy time as activity, so a working agent is stopped",
    file: "server/modules/sessions/service.ts",
    edits: [{ search: "    if (busy) this.activity.touch(id);", replace: "" }],
    tests: ["test/e2e/lifecycle.test.ts"],
  },
  {
    name: "events-to-everyone",
    breaks: "GET /api/events sends every user's session changes to every subscriber",
    file: "server/modules/events/bus.ts",
    edits: [{ search: "  return s.all || e.userId === s.userId;", replace: "  return true;" }],
    tests: ["test/server/modules/events/index.test.ts"],
  },
  {
    name: "fileserver-save-ignores-if-match",
    breaks: "PUT /file with If-Match replaces a file that changed since it was read (the editor's conflict check)",
    file: "fileserver/routes/upload.ts",
    edits: [{ search: `(ifMatch !== "*" && ifMatch !== entityTag(stats))`, replace: `false` }],
    tests: ["test/fileserver/write.test.ts"],
  },
  {
    name: "watch-walks-into-symlinks",
    breaks: "the live-changes walk follows a symlinked directory out of the workspace and reports what is there",
    file: "fileserver/watch.ts",
    edits: [
      { search: `if (type !== "directory") continue;`, replace: `if (type === "file") continue;` },
      {
        search: `const child = await dir.openDir(name).catch(() => null);`,
        replace: `const fs = require("node:fs"); const child = await (async () => new (dir.constructor as any)(dir.root, fs.openSync(\`/proc/self/fd/\${dir.fd}/\${name}\`, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY)))().catch(() => null);`,
      },
    ],
    tests: ["test/fileserver/watch.test.ts"],
  },
  // ---- the LLM gateway (issue 17) ----------------------------------------------------------------------
  {
    name: "gateway-key-outlives-session",
    breaks: "a virtual key keeps working after its session stopped (only the key's existence is checked)",
    file: "server/gateway/gateway.ts",
    edits: [{ search: "const owner = sessionId ? this.deps.liveSession(sessionId) : null;", replace: 'const owner = sessionId ? (this.deps.liveSession(sessionId) ?? { userId: "" }) : null;' }],
    tests: ["test/server/gateway/gateway.test.ts"],
  },
  {
    name: "gateway-any-path",
    breaks: "the gateway forwards every path below a provider with the real key (files, batches, admin APIs)",
    file: "server/gateway/gateway.ts",
    edits: [{ search: "if (!isAllowedCall(provider.type, method, path)) {", replace: "if (false) {" }],
    tests: ["test/server/gateway/gateway.test.ts"],
  },
  {
    name: "gateway-session-key-upstream",
    breaks: "the session's virtual key goes upstream instead of the real one",
    file: "server/gateway/gateway.ts",
    edits: [{ search: "for (const [name, value] of Object.entries(credentialHeaders(provider.type, key))) headers.set(name, value);", replace: "void key;" }],
    tests: ["test/server/gateway/gateway.test.ts"],
  },
  {
    name: "gateway-no-user-key",
    breaks: "a person's own provider key is ignored: the server's key pays for their sessions",
    file: "server/gateway/credentials.ts",
    edits: [{ search: 'const row = this.db.query("SELECT sealed FROM llm_user_keys WHERE user_id = ? AND provider = ?").get(userId, provider.id) as { sealed: string } | null;', replace: "const row = null as { sealed: string } | null;" }],
    tests: ["test/server/gateway/gateway.test.ts"],
  },
  // ---- personal access tokens and webhooks (issue 15) -------------------------------------------------
  {
    name: "token-scope-ignored",
    breaks: "an access token's scopes are not checked: any token may do all its user may",
    file: "server/http/admission.ts",
    edits: [{ search: "if (!scopeAllows(principal.scopes, needed)) {", replace: "if (false && !scopeAllows(principal.scopes, needed)) {" }],
    tests: ["test/server/modules/tokens/index.test.ts"],
  },
  {
    name: "token-basic-any-user",
    breaks: "HTTP Basic takes an access token with any user name",
    file: "server/http/admission.ts",
    edits: [{ search: 'if (found?.source === "basic" && found.username?.toLowerCase()', replace: 'if (false && found?.source === "basic" && found.username?.toLowerCase()' }],
    tests: ["test/server/modules/tokens/index.test.ts"],
  },
  {
    name: "token-revocation-ignored",
    breaks: "a revoked access token still authenticates",
    file: "server/modules/tokens/service.ts",
    edits: [{ search: "if (row.revoked_at != null) throw", replace: "if (false) throw" }],
    tests: ["test/server/modules/tokens/index.test.ts"],
  },
  {
    name: "token-hash-unchecked",
    breaks: "an access token is found by its id and its secret is not compared",
    file: "server/modules/tokens/service.ts",
    edits: [{ search: "if (!row || stored.length !== given.length || !timingSafeEqual(stored, given))", replace: "if (!row)" }],
    tests: ["test/server/modules/tokens/index.test.ts"],
  },
  {
    name: "webhook-private-targets",
    breaks: "webhook targets on loopback, private and link-local addresses are allowed",
    file: "server/modules/webhooks/targets.ts",
    edits: [{ search: 'return range === "unicast" ? null : range;', replace: "return null;" }],
    tests: ["test/server/modules/webhooks/targets.test.ts", "test/server/modules/webhooks/service.test.ts"],
  },
  // ---- git on a session's behalf (issue 14) ---------------------------------------------------------
  {
    name: "git-hooks-run",
    breaks: "octo's git runs the repository's hooks (core.hooksPath is not overridden)",
    file: "common/git/run.ts",
    edits: [{ search: '  "core.hooksPath=/dev/null",', replace: "" }],
    tests: ["test/common/git/changes.test.ts"],
  },
  {
    name: "git-driver-programs-run",
    breaks: "filter/diff/merge driver programs named by an agent-written .git/config are not emptied",
    file: "common/git/run.ts",
    edits: [{ search: "for (const key of keys) settings.push(\"-c\", `${key}=`);", replace: "" }],
    tests: ["test/common/git/changes.test.ts"],
  },
  {
    name: "git-credential-any-host",
    breaks: "the credential helper answers for any host, not only the repository's",
    file: "common/git/credentials.ts",
    edits: [{ search: "[ \"$p\" = '${repository.protocol}' ] && [ \"$h\" = '${repository.host}' ] && cat <&3;", replace: "cat <&3;" }],
    tests: ["test/common/git/clone.test.ts"],
  },
  {
    name: "git-url-ext-transport",
    breaks: "repository URLs with a transport helper (ext::) are accepted",
    file: "common/git/url.ts",
    edits: [{ search: 'if (url.includes("::")) throw invalid(url, "transport helpers', replace: 'if (false) throw invalid(url, "transport helpers' }],
    tests: ["test/common/git/clone.test.ts"],
  },
  {
    name: "git-path-traversal",
    breaks: "the Changes API's paths are not checked for .. or absolute paths",
    file: "common/git/changes.ts",
    edits: [{ search: 'if (!path || path.includes("\\0") || path.startsWith("/") || path.split("/").some((s) => s === ".." || s === "") || path.length > 4096) {', replace: "if (!path) {" }],
    tests: ["test/common/git/changes.test.ts"],
  },
];

const REPO = resolve(import.meta.dir, "..");
const BUN = process.execPath;

interface RunResult {
  ok: boolean;
  /** Names of failing tests ("(fail) ..." lines), or the tail of the output when there are none. */
  failures: string[];
}

/** Runs `tests` in `dir`; ok when bun test exits 0. */
function runTests(dir: string, tests: string[]): RunResult {
  const result = spawnSync(BUN, ["test", "--timeout", "120000", ...tests], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, CI: "true" },
    maxBuffer: 256 * 1024 * 1024,
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  const failures = [
    ...new Set(
      output
        .split("\n")
        .filter((line) => line.startsWith("(fail) "))
        .map((line) => line.slice(7).replace(/ \[[\d.]+m?s\]$/, "")),
    ),
  ];
  if (result.status !== 0 && failures.length === 0) failures.push(output.trim().split("\n").slice(-5).join(" | "));
  return { ok: result.status === 0, failures };
}

/** Copies the working tree (files git does not ignore) to a new temporary directory; node_modules is linked. */
function copyTree(): string {
  const dir = mkdtempSync(join(tmpdir(), "octo-mutate-"));
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: REPO, encoding: "utf8" });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    const from = join(REPO, file);
    const to = join(dir, file);
    mkdirSync(dirname(to), { recursive: true });
    try {
      cpSync(from, to, { preserveTimestamps: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err; // deleted but not staged
    }
  }
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** Applies `mutation` in `dir`; returns the original text, or the search text that is not there exactly once. */
function apply(dir: string, mutation: Mutation): { original: string } | { stale: string } {
  const path = join(dir, mutation.file);
  let original: string;
  try {
    original = readFileSync(path, "utf8");
  } catch {
    return { stale: `${mutation.file} does not exist` };
  }
  let text = original;
  for (const edit of mutation.edits) {
    const count = text.split(edit.search).length - 1;
    if (count !== 1) return { stale: `${JSON.stringify(edit.search.slice(0, 80))} occurs ${count} times in ${mutation.file}` };
    text = text.replace(edit.search, () => edit.replace);
  }
  writeFileSync(path, text);
  return { original };
}

function main(argv: string[]): number {
  const list = argv.includes("--list");
  const keep = argv.includes("--keep");
  const names = argv.filter((a) => !a.startsWith("--"));
  const unknown = names.filter((n) => !MUTATIONS.some((m) => m.name === n));
  if (unknown.length > 0 || argv.some((a) => a.startsWith("--") && a !== "--list" && a !== "--keep")) {
    console.error(`usage: bun scripts/mutate-check.ts [--list] [--keep] [name...]${unknown.length ? `; unknown: ${unknown.join(", ")}` : ""}`);
    return 2;
  }
  const chosen = names.length > 0 ? MUTATIONS.filter((m) => names.includes(m.name)) : MUTATIONS;
  if (list) {
    for (const m of chosen) console.log(`${m.name}\n  breaks: ${m.breaks}\n  file:   ${m.file}\n  tests:  ${m.tests.join(" ")}`);
    return 0;
  }

  const dir = copyTree();
  console.log(`mutate-check: ${chosen.length} mutation(s) in ${dir}`);
  const baselines = new Map<string, RunResult>();
  const outcomes: { name: string; verdict: string; detail: string }[] = [];
  try {
    for (const mutation of chosen) {
      const key = mutation.tests.join(" ");
      if (!baselines.has(key)) {
        console.log(`  baseline: ${key}`);
        baselines.set(key, runTests(dir, mutation.tests));
      }
      const baseline = baselines.get(key)!;
      let verdict: string;
      let detail = "";
      if (!baseline.ok) {
        verdict = "BASELINE FAILS";
        detail = baseline.failures.join("; ");
      } else {
        const applied = apply(dir, mutation);
        if ("stale" in applied) {
          verdict = "STALE";
          detail = applied.stale;
        } else {
          try {
            const run = runTests(dir, mutation.tests);
            verdict = run.ok ? "MISSED" : "CAUGHT";
            detail = run.ok ? `all of ${key} passed` : `by ${run.failures.join("; ")}`;
          } finally {
            writeFileSync(join(dir, mutation.file), applied.original);
          }
        }
      }
      outcomes.push({ name: mutation.name, verdict, detail });
      console.log(`${verdict.padEnd(14)} ${mutation.name}: ${detail}`);
    }
  } finally {
    if (keep) console.log(`mutate-check: kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  const caught = outcomes.filter((o) => o.verdict === "CAUGHT").length;
  console.log(`mutate-check: ${caught} of ${outcomes.length} caught`);
  return caught === outcomes.length ? 0 : 1;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
