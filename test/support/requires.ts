/**
 * "These tests need component X": the one place where a test group that depends on a real component (a
 * container engine, Chromium, a system command) finds out whether it is there.
 *
 * - Present: {@link requires} answers true and the group runs.
 * - Missing in CI (`CI` is `true`/`1`/`yes`, which `.ci/run` sets): it registers one failing test,
 *   `requires <component> (<group>)`, whose error names what is missing and how to install it, and answers
 *   false so the group is skipped (and counted as skipped, which `.ci/run` also fails on). A CI run can
 *   therefore never pass without the component.
 * - Missing outside CI: it prints one line on stderr, `SKIPPING <group>: <component> is missing (<why>);
 *   install: <how>`, and answers false.
 *
 * Usage, at the top level of a test file (top-level await is fine in Bun):
 *   const haveChromium = await requires(CHROMIUM_COMPONENT, "the web app in Chromium");
 *   describe.skipIf(!haveChromium)("the web app in Chromium", () => { ... });
 */
import { accessSync, constants } from "node:fs";
import { test } from "bun:test";

/** A real component some tests need. */
export interface Component {
  /** What it is, e.g. "Chromium", "a container engine", "`ss` (iproute2)". */
  name: string;
  /** How to get it, e.g. "apt-get install -y chromium (or run bash .ci/setup)". */
  install: string;
  /** Why it is not usable (e.g. "/usr/bin/chromium does not exist"), or null when it is. */
  problem(): string | null | Promise<string | null>;
}

/** Whether this is a CI run (`CI=true`, `1` or `yes`): missing components fail instead of skipping. */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env.CI ?? "");
}

/** Why `path` is not an executable file, or null when it is. */
export function notExecutable(path: string): string | null {
  try {
    accessSync(path, constants.X_OK);
    return null;
  } catch (err) {
    return `${path} is not executable (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
}

/** A command that must be on PATH, from the Debian package `pkg` (which `.ci/setup` installs). */
export function command(name: string, pkg: string): Component {
  return {
    name: `\`${name}\` (Debian ${pkg})`,
    install: `apt-get install -y ${pkg} (or run bash .ci/setup as root)`,
    problem: () => (Bun.which(name) ? null : `${name} is not on PATH`),
  };
}

/**
 * Checks `component` for the test group `group` (see the module doc).
 * @returns true when the group can run; false when it must be skipped (in CI a failing test was registered).
 */
export async function requires(component: Component, group: string): Promise<boolean> {
  let problem: string | null;
  try {
    problem = await component.problem();
  } catch (err) {
    problem = String((err as Error)?.message ?? err);
  }
  if (problem === null) return true;
  const message = `${component.name} is missing (${problem}); install: ${component.install}`;
  if (inCi()) {
    test(`requires ${component.name} (${group})`, () => {
      throw new Error(`${message}. CI runs "${group}", so a missing component fails the run instead of skipping it.`);
    });
  } else {
    process.stderr.write(`\nSKIPPING ${group}: ${message} (with CI=true this fails)\n\n`);
  }
  return false;
}
