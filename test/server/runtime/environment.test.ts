import { describe, expect, test } from "bun:test";
import { baseEnvironment, homeEnvironment } from "../../../server/runtime/environment.ts";

describe("session environments", () => {
  test("baseEnvironment copies only the allow-listed locale and path variables", () => {
    const env = baseEnvironment({
      PATH: "/opt/bin:/usr/bin",
      LANG: "de_DE.UTF-8",
      LC_ALL: "C.UTF-8",
      TZ: "Europe/Berlin",
      USER: "octo",
      HOME: "/home/octo",
      OCTO_SERVER__PORT: "9000",
      OPENAI_API_KEY: "sk-secret",
      AWS_SECRET_ACCESS_KEY: "secret",
      XDG_DATA_HOME: "/home/octo/.local/share",
      SSH_AUTH_SOCK: "/tmp/agent",
    });
    expect(env).toEqual({ PATH: "/opt/bin:/usr/bin", LANG: "de_DE.UTF-8", LC_ALL: "C.UTF-8", TZ: "Europe/Berlin", USER: "octo" });
  });

  test("baseEnvironment gives a default PATH when there is none", () => {
    expect(baseEnvironment({})).toEqual({ PATH: "/usr/local/bin:/usr/bin:/bin" });
  });

  test("baseEnvironment of the real process leaks none of the test's own variables", () => {
    const env = baseEnvironment();
    expect(process.env.OCTO_TEST_ROOT).toBeDefined();
    expect(env.OCTO_TEST_ROOT).toBeUndefined();
    expect(env.XDG_CONFIG_HOME).toBeUndefined();
    expect(env.PATH).toBe(process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin");
  });

  test("homeEnvironment roots HOME and every XDG directory in the session's home", () => {
    expect(homeEnvironment("/data/sessions/s1/home")).toEqual({
      HOME: "/data/sessions/s1/home",
      XDG_CONFIG_HOME: "/data/sessions/s1/home/.config",
      XDG_DATA_HOME: "/data/sessions/s1/home/.local/share",
      XDG_STATE_HOME: "/data/sessions/s1/home/.local/state",
      XDG_CACHE_HOME: "/data/sessions/s1/home/.cache",
    });
  });
});
