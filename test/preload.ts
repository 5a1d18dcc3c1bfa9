/**
 * Test preload (bunfig.toml): points every XDG directory at a fresh temporary directory so no test reads
 * or writes the developer's real config or data, and gives each run its own scratch root.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setLogLevel } from "../common/log.ts";

const root = mkdtempSync(join(tmpdir(), "octo-test-"));
process.env.OCTO_TEST_ROOT = root;
process.env.XDG_CONFIG_HOME = join(root, "config");
process.env.XDG_DATA_HOME = join(root, "data");
process.env.XDG_STATE_HOME = join(root, "state");
process.env.XDG_CACHE_HOME = join(root, "cache");
// In-process servers log at warn unless a test's config says otherwise (startServer sets `[server] log_level`).
setLogLevel("warn");
for (const key of Object.keys(process.env)) {
  if (/^OCTO_[A-Z0-9_]+__/.test(key)) delete process.env[key];
}
