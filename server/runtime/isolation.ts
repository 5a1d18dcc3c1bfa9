/**
 * Which isolation octo's sessions get, and what follows from it: without a sandbox, local mode serves one
 * user only (docs/security.md, "Fail closed").
 *
 *   container   each session in its own container (Docker or Podman, or a Docker Swarm service)
 *   bwrap       local mode, each session in its own bubblewrap sandbox (its own uid when octo is root)
 *   none        local mode without a sandbox: every session runs as octo's user and can read octo's data
 *               (database, JWT secret) and every other session
 */
import type { OctoConfig } from "../config/schema.ts";
import { OctoError } from "../../common/errors.ts";
import { bwrapWorks } from "./sandbox.ts";

export interface Isolation {
  kind: "container" | "bwrap" | "none";
  /** One line for people: `octo serve`'s output, `octoctl status`, the admin page. */
  detail: string;
}

/** The isolation of a local runtime with or without a sandbox (`sessionUids`: octo is root). */
export function localIsolation(sandbox: { sessionUids: boolean } | null): Isolation {
  if (!sandbox) return { kind: "none", detail: "none: sessions run as octo's user, unsandboxed (apt install bubblewrap)" };
  return {
    kind: "bwrap",
    detail: sandbox.sessionUids
      ? "bubblewrap sandbox per session, each session its own uid"
      : "bubblewrap sandbox per session, in a user namespace as octo's uid",
  };
}

/**
 * What the configuration gives without starting a runtime (for the `octo` CLI working on the data dir):
 * container mode, or local mode's sandbox as `[runtime] sandbox` and this machine allow. "auto" mode counts
 * as local: the CLI cannot know whether the server found an engine, and refusing is the safe side.
 */
export function configuredIsolation(config: OctoConfig): Isolation {
  if (config.runtime.mode === "container" || config.runtime.mode === "swarm") return { kind: "container", detail: "one container per session" };
  if (config.runtime.sandbox === "none" || !bwrapWorks()) return localIsolation(null);
  return localIsolation({ sessionUids: process.getuid?.() === 0 });
}

/** Whether this octo may have more than one account: a sandbox exists, or the operator said so. */
export function allowsSharing(isolation: Isolation, config: OctoConfig): boolean {
  return isolation.kind !== "none" || config.runtime.allow_unsandboxed_multi_user;
}

/** The refusal for a second account (or an invite code for one) on a single-user octo. */
export function singleUserRefusal(): OctoError {
  return new OctoError(
    403,
    "SINGLE_USER_MODE",
    "This octo runs local sessions without a sandbox, so it serves one user only: each session could read " +
      "octo's data and every other session. Install bubblewrap (Debian: apt install bubblewrap) or use " +
      'container mode ([runtime] mode = "container"); to share it anyway, set [runtime] ' +
      "allow_unsandboxed_multi_user = true.",
  );
}
