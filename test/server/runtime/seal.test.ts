/**
 * `octo seal` (server/runtime/seal.ts) run for real on this machine: the sealed command cannot make a user
 * namespace (even as root, where `unshare -U` otherwise works), runs with no_new_privs, ignores and blocks no
 * signal, finds the secrets on its standard input and nowhere in its environment, and inherits no other
 * descriptor. The same program seals every session container (test/e2e/container-attacks.test.ts).
 */
import { describe, expect, test } from "bun:test";
import { splitSecrets } from "../../../server/runtime/seal.ts";
import { octoCommand } from "../../support/octo.ts";

/** Runs `octo seal -- bash -c script` with `env` added to a minimal environment. */
function sealed(script: string, env: Record<string, string> = {}) {
  const result = Bun.spawnSync([...octoCommand(), "seal", "--", "bash", "-c", script], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

describe("octo seal", () => {
  test("splitSecrets moves the token and OpenCode's variables to records; OCTO_SECRETS=stdin keeps stdin as is", () => {
    const split = splitSecrets({ OCTO_SERVICE_TOKEN: "t", OCTO_OC_ENV_KEY: "k\nv", HOME: "/home/dev", UNSET: undefined });
    expect(split.env).toEqual({ HOME: "/home/dev", OCTO_SECRETS: "stdin" });
    expect(split.records.toString()).toBe("OCTO_SERVICE_TOKEN=t\0OCTO_OC_ENV_KEY=k\nv\0");
    expect(splitSecrets({ HOME: "/h" })).toEqual({ env: { HOME: "/h" }, records: Buffer.alloc(0) });
    // Already on stdin (local mode's protocol): stray secret variables are dropped, stdin is not replaced.
    expect(splitSecrets({ OCTO_SECRETS: "stdin", OCTO_SERVICE_TOKEN: "x" })).toEqual({ env: { OCTO_SECRETS: "stdin" }, records: Buffer.alloc(0) });
  });

  test("the command runs sealed: no user namespace, no_new_privs, default signals, secrets on stdin only", () => {
    const secret = `tok-${crypto.randomUUID()}`;
    const script = [
      "grep -E '^(NoNewPrivs|Seccomp|SigIgn|SigBlk):' /proc/self/status",
      "unshare -U true 2>/dev/null; echo userns=$?",
      "echo \"env-token=${OCTO_SERVICE_TOKEN:-none} secrets=$OCTO_SECRETS\"",
      "echo environ-hits=$(tr '\\0' '\\n' < /proc/$$/environ | grep -c tok-)",
      "echo fds=$(ls /proc/self/fd | sort -n | tr '\\n' ' ')",
      "tr '\\0' '|' </dev/stdin",
    ].join("; ");
    const out = sealed(script, { OCTO_SERVICE_TOKEN: secret, OCTO_OC_ENV_API_KEY: "pk-1", OCTO_OC_ENV_CONFIG: '{\n"a": 1\n}' });
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("NoNewPrivs:\t1");
    expect(out.stdout).toMatch(/^Seccomp:\t2$/m);
    expect(out.stdout).toContain("SigIgn:\t0000000000000000");
    expect(out.stdout).toContain("SigBlk:\t0000000000000000");
    expect(out.stdout).toContain("userns=1");
    expect(out.stdout).toContain("env-token=none secrets=stdin");
    expect(out.stdout).toContain("environ-hits=0");
    expect(out.stdout).toMatch(/^fds=0 1 2 3$/m); // 3 is ls's own directory: nothing of octo's is inherited
    expect(out.stdout).toContain(`OCTO_SERVICE_TOKEN=${secret}|OCTO_OC_ENV_API_KEY=pk-1|OCTO_OC_ENV_CONFIG={\n"a": 1\n}|`);
  });

  test("a command that does not exist is an error before anything runs", () => {
    const missing = Bun.spawnSync([...octoCommand(), "seal", "--", "no-such-program-octo"], { stdout: "pipe", stderr: "pipe" });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.toString()).toContain("octo seal: no-such-program-octo is not on PATH");
  });
});
