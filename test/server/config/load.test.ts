import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../../server/config/load.ts";
import { tempDir } from "../../support/tmp.ts";

function envWith(vars: Record<string, string>, home = tempDir("home-")): NodeJS.ProcessEnv {
  return { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_DATA_HOME: join(home, ".data"), ...vars };
}

describe("loadConfig", () => {
  test("works with no file at all: local mode on 127.0.0.1:8080, data in $XDG_DATA_HOME/octo", () => {
    const env = envWith({});
    const { config, file, dataDir, sources } = loadConfig({ env });
    expect(file).toBeNull();
    expect(config.server.host).toBe("127.0.0.1");
    expect(config.server.port).toBe(8080);
    expect(config.runtime.mode).toBe("local");
    expect(dataDir).toBe(join(env.XDG_DATA_HOME!, "octo"));
    expect(sources["server.port"]).toBe("default");
  });

  test("later sources win: file < env < flags, and sources are recorded", () => {
    const env = envWith({ OCTO_SERVER__PORT: "9000", OCTO_RUNTIME__MODE: "auto" });
    mkdirSync(join(env.XDG_CONFIG_HOME!, "octo"), { recursive: true });
    const file = join(env.XDG_CONFIG_HOME!, "octo", "config.toml");
    writeFileSync(file, '[server]\nport = 7000\nhost = "0.0.0.0"\n[runtime]\nmode = "container"\n[opencode]\nenv = { API_KEY = "k" }\n');
    const loaded = loadConfig({ env, flags: { runtime: { mode: "local" } } });
    expect(loaded.file).toBe(file);
    expect(loaded.config.server.host).toBe("0.0.0.0");
    expect(loaded.config.server.port).toBe(9000);
    expect(loaded.config.runtime.mode).toBe("local");
    expect(loaded.config.opencode.env).toEqual({ API_KEY: "k" });
    expect(loaded.sources).toMatchObject({
      "server.host": "file",
      "server.port": "env",
      "runtime.mode": "flag",
      "auth.token_ttl_seconds": "default",
    });
  });

  test("environment values are typed by the schema: strings stay strings, TOML tables parse", () => {
    const env = envWith({ OCTO_CONTAINER__MEMORY: "512", OCTO_OPENCODE__ENV: '{ A = "1" }', OCTO_SERVER__SECURE_COOKIES: "true" });
    const { config } = loadConfig({ env });
    expect(config.container.memory).toBe("512");
    expect(config.opencode.env).toEqual({ A: "1" });
    expect(config.server.secure_cookies).toBe(true);
  });

  test("a wrong value names the key, the value, its source and what was expected", () => {
    const env = envWith({ OCTO_SERVER__PORT: "not-a-port" });
    expect(() => loadConfig({ env })).toThrow(ConfigError);
    try {
      loadConfig({ env });
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain("server.port");
      expect(message).toContain('"not-a-port"');
      expect(message).toContain("OCTO_SERVER__PORT");
      expect(message).toContain("expected number");
    }
  });

  test("unknown keys in the file and in the environment are refused", () => {
    const env = envWith({});
    const file = join(tempDir(), "c.toml");
    writeFileSync(file, "[server]\nprot = 1\n");
    expect(() => loadConfig({ env, configFile: file })).toThrow(/unknown config key server\.prot/);
    expect(() => loadConfig({ env: envWith({ OCTO_NOPE__X: "1" }) })).toThrow(/unknown config key nope\.x/);
  });

  test("a missing explicit file and invalid TOML are clear errors", () => {
    const env = envWith({});
    expect(() => loadConfig({ env, configFile: "/nonexistent/octo.toml" })).toThrow(/does not exist/);
    const file = join(tempDir(), "bad.toml");
    writeFileSync(file, "[server\nport = 1\n");
    expect(() => loadConfig({ env, configFile: file })).toThrow(/not valid TOML \(line 1/);
  });

  test("secret values are redacted in errors", () => {
    const env = envWith({ OCTO_OPENCODE__ENV: '"sk-very-secret"' });
    expect(() => loadConfig({ env })).toThrow(/opencode\.env = \(redacted\)/);
  });
});
