/**
 * The egress policy's pure parts: the filter rules tinyproxy matches (checked with the same kind of
 * extended regular expressions, case-insensitively, against the targets tinyproxy hands its filter), the
 * log parser over real tinyproxy 1.11 log lines, the allow-entry schema, and subnet choice.
 */
import { describe, expect, test } from "bun:test";
import { EgressAllowEntry, OctoConfig } from "../../../server/config/schema.ts";
import { type EgressConnection, EgressLogParser, filterRules, freeSubnets, overlaps, targetOf } from "../../../server/runtime/egress.ts";

/** Whether tinyproxy with these rules lets `target` through (FilterDefaultDeny: a rule must match). */
function passes(rules: string[], target: string): boolean {
  return rules.some((rule) => new RegExp(rule, "i").test(target));
}

describe("filterRules", () => {
  const rules = filterRules(["registry.npmjs.org", "*.example.com", "git.example.org:8443"], { host: "host.containers.internal", port: 41234 });

  test("a host without a port passes on 80 and 443, by CONNECT and plain HTTP", () => {
    expect(passes(rules, "registry.npmjs.org:443")).toBe(true);
    expect(passes(rules, "REGISTRY.npmjs.org:443")).toBe(true);
    expect(passes(rules, "http://registry.npmjs.org/pkg")).toBe(true);
    expect(passes(rules, "http://registry.npmjs.org:80/pkg")).toBe(true);
    expect(passes(rules, "registry.npmjs.org:22")).toBe(false);
    expect(passes(rules, "http://registry.npmjs.org:8080/")).toBe(false);
  });

  test("names that only look like an allowed one are refused", () => {
    for (const target of [
      "registry.npmjs.org.evil.com:443",
      "evilregistry.npmjs.org:443",
      "registryxnpmjs.org:443",
      "http://registry.npmjs.org@evil.com/",
      "http://registry.npmjs.org:443@evil.com/",
      "http://evil.com/registry.npmjs.org:443",
      "evil.com:443#registry.npmjs.org:443",
    ]) {
      expect([target, passes(rules, target)]).toEqual([target, false]);
    }
  });

  test("a wildcard covers subdomains, not the apex; a port entry only its port", () => {
    expect(passes(rules, "a.example.com:443")).toBe(true);
    expect(passes(rules, "a.b.example.com:443")).toBe(true);
    expect(passes(rules, "example.com:443")).toBe(false);
    expect(passes(rules, "aexample.com:443")).toBe(false);
    expect(passes(rules, "git.example.org:8443")).toBe(true);
    expect(passes(rules, "git.example.org:443")).toBe(false);
  });

  test("the gateway passes on its port only, and only by plain HTTP to it or a tunnel to it", () => {
    expect(passes(rules, "http://host.containers.internal:41234/llm/mock/chat/completions")).toBe(true);
    expect(passes(rules, "host.containers.internal:41234")).toBe(true);
    expect(passes(rules, "http://host.containers.internal:8080/api/status")).toBe(false);
    expect(passes(filterRules([]), "registry.npmjs.org:443")).toBe(false);
  });
});

describe("EgressAllowEntry and [network]", () => {
  test("host names, wildcards and ports are accepted; anything else is refused with the rule", () => {
    for (const ok of ["registry.npmjs.org", "*.example.com", "git.example.org:8443", "localhost"]) expect(EgressAllowEntry.safeParse(ok).success).toBe(true);
    for (const bad of ["", "not a host", "*", "*.", "a.*.com", "http://x.org", "x.org:0", "x.org:70000", "x.org/path", "-x.org", "x.org:"]) {
      expect([bad, EgressAllowEntry.safeParse(bad).success]).toEqual([bad, false]);
    }
  });

  test('the default is "open"; a bad egress value is refused', () => {
    expect(OctoConfig.parse({}).network).toEqual({ egress: "open", allow: [], subnet_pool: "10.213.0.0/16", proxy_image: "", proxy_hosts: {} });
    expect(OctoConfig.safeParse({ network: { egress: "closed" } }).success).toBe(false);
    expect(OctoConfig.safeParse({ network: { subnet_pool: "10.0.0.0/30" } }).success).toBe(false);
  });
});

describe("EgressLogParser over tinyproxy 1.11 lines", () => {
  const t = (s: string) => `2026-12-02T07:57:${s}Z`;
  const lines = [
    `${t("17.930000000")} CONNECT   Dec 02 07:57:17.930 [1]: Connect (file descriptor 4): 10.213.0.3`,
    `${t("17.930100000")} CONNECT   Dec 02 07:57:17.930 [1]: Request (file descriptor 4): GET http://allowed.test:8081/x HTTP/1.1`,
    `${t("17.931000000")} CONNECT   Dec 02 07:57:17.931 [1]: Established connection to host "allowed.test" using file descriptor 5.`,
    `${t("18.025000000")} CONNECT   Dec 02 07:57:18.025 [1]: Connect (file descriptor 4): 10.213.0.3`,
    `${t("18.025100000")} CONNECT   Dec 02 07:57:18.025 [1]: Request (file descriptor 4): CONNECT allowed.test:8081 HTTP/1.1`,
    `${t("18.045000000")} CONNECT   Dec 02 07:57:18.045 [1]: Connect (file descriptor 6): 10.213.0.3`,
    `${t("18.045100000")} CONNECT   Dec 02 07:57:18.045 [1]: Request (file descriptor 6): GET http://refused.test:8082/ HTTP/1.1`,
    `${t("18.045200000")} NOTICE    Dec 02 07:57:18.045 [1]: Proxying refused on filtered url "http://refused.test:8082/"`,
    `${t("18.046000000")} CONNECT   Dec 02 07:57:18.046 [1]: Established connection to host "allowed.test" using file descriptor 5.`,
    `${t("18.143000000")} CONNECT   Dec 02 07:57:18.143 [1]: Request (file descriptor 7): CONNECT nowhere.test:443 HTTP/1.1`,
  ];

  test("each request is decided by its own outcome line, interleaved or not", () => {
    const out: EgressConnection[] = [];
    const parser = new EgressLogParser((c) => out.push(c));
    for (const line of lines) parser.line(line);
    expect(out.map((c) => `${c.method} ${c.host}:${c.port} ${c.allowed}`)).toEqual([
      "GET allowed.test:8081 true",
      "GET refused.test:8082 false",
      "CONNECT allowed.test:8081 true",
    ]);
    expect(out[0]!.time).toBe(Date.parse("2026-12-02T07:57:17.930100000Z"));
    parser.flush();
    expect(out.at(-1)).toMatchObject({ method: "CONNECT", host: "nowhere.test", port: 443, allowed: true });
  });

  test("targets: CONNECT host:port and absolute URLs; nothing else", () => {
    expect(targetOf("CONNECT", "Example.COM:443")).toEqual({ host: "example.com", port: 443 });
    expect(targetOf("GET", "http://a.test/x")).toEqual({ host: "a.test", port: 80 });
    expect(targetOf("GET", "/relative")).toBeNull();
    expect(targetOf("CONNECT", "no-port")).toBeNull();
  });
});

describe("subnets", () => {
  test("the first free /29s of the pool, skipping every overlapping network", () => {
    expect(overlaps("10.213.0.0/29", "10.213.0.4/30")).toBe(true);
    expect(overlaps("10.213.0.0/29", "10.213.0.8/29")).toBe(false);
    const free = freeSubnets("10.213.0.0/16", ["10.88.0.0/16", "10.213.0.0/29", "10.213.0.16/28"], 2);
    expect(free).toEqual([
      { subnet: "10.213.0.8/29", gateway: "10.213.0.9", proxy: "10.213.0.10", session: "10.213.0.11" },
      { subnet: "10.213.0.32/29", gateway: "10.213.0.33", proxy: "10.213.0.34", session: "10.213.0.35" },
    ]);
    expect(freeSubnets("10.213.0.0/29", ["10.0.0.0/8"])).toEqual([]);
  });
});
