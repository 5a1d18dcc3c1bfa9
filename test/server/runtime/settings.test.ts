/** The session settings derived once from the config (server/runtime/settings.ts). */
import { describe, expect, test } from "bun:test";
import { OctoConfig } from "../../../server/config/schema.ts";
import { fileserverFlags, graceSeconds, sessionSettings } from "../../../server/runtime/settings.ts";

describe("sessionSettings", () => {
  test("a fractional max_upload_mb is rounded up to whole MiB (the file server's flag takes integers), at least 1", () => {
    expect(sessionSettings(OctoConfig.parse({ fileserver: { max_upload_mb: 1.5 } })).maxUploadMb).toBe(2);
    expect(sessionSettings(OctoConfig.parse({ fileserver: { max_upload_mb: 0.1 } })).maxUploadMb).toBe(1);
    expect(sessionSettings(OctoConfig.parse({})).maxUploadMb).toBe(512);
    expect(fileserverFlags(2)).toBe("--max-upload-mb 2");
  });

  test("the stop grace period in ms and in whole seconds", () => {
    const settings = sessionSettings(OctoConfig.parse({ runtime: { stop_timeout_seconds: 2.5 }, terminal: { shell: "/bin/zsh" } }));
    expect(settings).toEqual({ maxUploadMb: 512, shell: "/bin/zsh", stopTimeoutMs: 2500, stopGraceSeconds: 3 });
    expect(graceSeconds(100)).toBe(1);
  });
});
