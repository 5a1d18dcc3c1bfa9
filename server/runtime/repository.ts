/**
 * What a runtime gives the session entrypoint so that it clones the session's repository first
 * (container/entrypoint.sh `clone_repository`, common/git/clone.ts): the same for local and container mode.
 */
import type { SessionSpec } from "./types.ts";

/** Name of the secret record holding the clone's credential (JSON); a secret like `OCTO_SERVICE_TOKEN`. */
export const GIT_CREDENTIAL_VARIABLE = "OCTO_GIT_CREDENTIAL";

/**
 * Plain settings (`OCTO_REPO_URL`, `_REF`, `_DEPTH`) and secret records (`OCTO_GIT_CREDENTIAL`) for the
 * entrypoint; both empty when the session has no clone due.
 */
export function repositoryEnvironment(spec: SessionSpec): { env: Record<string, string>; secrets: Record<string, string> } {
  const repository = spec.repository;
  if (!repository) return { env: {}, secrets: {} };
  const env: Record<string, string> = { OCTO_REPO_URL: repository.url };
  if (repository.ref) env.OCTO_REPO_REF = repository.ref;
  if (repository.depth) env.OCTO_REPO_DEPTH = String(repository.depth);
  const secrets: Record<string, string> = spec.gitCredential ? { [GIT_CREDENTIAL_VARIABLE]: JSON.stringify(spec.gitCredential) } : {};
  return { env, secrets };
}
