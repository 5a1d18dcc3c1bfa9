/**
 * Versions baked into every build: octo's own (from package.json) and the pinned OpenCode
 * (from the `opencode-ai` dependency), both resolved at bundle time so compiled binaries carry them.
 */
import pkg from "../package.json" with { type: "json" };
import opencodePkg from "opencode-ai/package.json" with { type: "json" };

/** octo's semantic version, e.g. "0.1.0". */
export const VERSION: string = pkg.version;
/** The OpenCode version octo is tested with, e.g. "1.18.33". */
export const OPENCODE_VERSION: string = opencodePkg.version;
