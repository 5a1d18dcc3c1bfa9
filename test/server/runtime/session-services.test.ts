/**
 * The table of a session's three services (server/runtime/session-services.ts) against what really runs:
 * the entrypoint's defaults, the session image's exposed ports, the services' own health routes.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { argsVariables, endpointsAt, lastWords, portVariables, SERVICE, SERVICE_KEYS, SESSION_SERVICES } from "../../../server/runtime/session-services.ts";

const REPO = join(import.meta.dir, "..", "..", "..");
const entrypoint = readFileSync(join(REPO, "container", "entrypoint.sh"), "utf8");
const dockerfile = readFileSync(join(REPO, "container", "Dockerfile"), "utf8");

describe("session services", () => {
  test("the keys are the proxy's path segments, in start order; each entry is found by its key", () => {
    expect(SERVICE_KEYS).toEqual(["code", "files", "term"]);
    for (const s of SESSION_SERVICES) expect(SERVICE[s.key]).toBe(s);
  });

  test("the entrypoint reads each port variable with the container port as its default, and each args variable", () => {
    for (const s of SESSION_SERVICES) {
      expect(entrypoint).toContain(`\${${s.portVariable}:-${s.containerPort}}`);
      if (s.argsVariable) expect(entrypoint).toContain(`\${${s.argsVariable}:-}`);
    }
  });

  test("the session image exposes every container port", () => {
    for (const s of SESSION_SERVICES) expect(dockerfile).toContain(String(s.containerPort));
  });

  test("the entrypoint names a dead service as the table does", () => {
    for (const s of SESSION_SERVICES) expect(entrypoint).toContain(`=${s.name.includes(" ") ? `"${s.name}"` : s.name}`);
  });

  test("endpoints, port and args variables", () => {
    expect(endpointsAt("127.0.0.1", { code: 1, files: 2, term: 3 })).toEqual({ code: "http://127.0.0.1:1", files: "http://127.0.0.1:2", term: "http://127.0.0.1:3" });
    expect(portVariables({ code: 1, files: 2, term: 3 })).toEqual({ OCTO_PORT_CODE: "1", OCTO_PORT_FILES: "2", OCTO_PORT_TERM: "3" });
    expect(argsVariables({ files: "--max-upload-mb 2", term: "" })).toEqual({ OCTO_FILESERVER_ARGS: "--max-upload-mb 2" });
  });

  test("lastWords: the entrypoint's last octo-entrypoint line, or null", () => {
    expect(lastWords("booting\nocto-entrypoint: terminal exited with code 2\nocto-entrypoint: opencode was killed by SIGKILL \ntail")).toBe("opencode was killed by SIGKILL");
    expect(lastWords("nothing said")).toBeNull();
  });
});
