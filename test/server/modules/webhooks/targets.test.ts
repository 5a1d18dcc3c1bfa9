/**
 * Webhook target checks: every address a name resolves to must be public unicast and not this machine's,
 * unless `[webhooks] allow_private_targets`; only http(s) URLs without credentials.
 */
import { describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { blockedReason, checkTarget } from "../../../../server/modules/webhooks/targets.ts";
import { octoError } from "../../../support/fakes.ts";

const strict = { allowPrivate: false };

describe("blockedReason", () => {
  test.each([
    ["127.0.0.1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.5.4", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "linkLocal"],
    ["100.64.0.1", "carrierGradeNat"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "linkLocal"],
    ["fd12:3456::1", "uniqueLocal"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
  ])("%s is refused (%s)", (ip, why) => {
    expect(blockedReason(ip)).toBe(why);
  });

  test.each(["8.8.8.8", "172.32.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"])("%s is public", (ip) => {
    expect(blockedReason(ip)).toBeNull();
  });
});

describe("checkTarget", () => {
  test.each([
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "https://10.0.0.5/x",
    "http://0x7f000001/x",
    "http://2130706433/x",
    "http://[::ffff:127.0.0.1]/x",
  ])("%s is forbidden", async (url) => {
    const err = await octoError(checkTarget(url, strict));
    expect([err.status, err.code]).toEqual([400, "WEBHOOK_TARGET_FORBIDDEN"]);
  });

  test("every address of this machine is forbidden, whatever its range", async () => {
    const own = Object.values(networkInterfaces()).flat().filter((i) => i && i.family === "IPv4").map((i) => i!.address);
    expect(own.length).toBeGreaterThan(0);
    for (const address of own) expect((await octoError(checkTarget(`http://${address}:9/x`, strict))).code).toBe("WEBHOOK_TARGET_FORBIDDEN");
  });

  test.each(["ftp://example.com/x", "file:///etc/hostname", "not a url", "https://user:pw@example.com/x"])("%s is invalid", async (url) => {
    expect((await octoError(checkTarget(url, strict))).code).toBe("WEBHOOK_TARGET_INVALID");
  });

  test("a public address passes; with allow_private_targets loopback passes too", async () => {
    expect(await checkTarget("https://8.8.8.8/hook", strict)).toBe("https://8.8.8.8/hook");
    expect(await checkTarget("http://127.0.0.1:9/hook", { allowPrivate: true })).toBe("http://127.0.0.1:9/hook");
  });
});
