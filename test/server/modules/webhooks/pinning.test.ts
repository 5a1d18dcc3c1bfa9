/**
 * DNS rebinding against webhook deliveries, performed for real: the test controls the resolver the
 * delivery uses (WebhookService's `lookup`) and answers differently from one question to the next. A delivery
 * resolves once, checks that answer, and connects to exactly that address with the original name as Host and
 * TLS server name; a later, different answer (127.0.0.1) never steers a connection.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import tls from "node:tls";
import type { Server } from "bun";
import { WebhookService } from "../../../../server/modules/webhooks/service.ts";
import type { HostLookup } from "../../../../server/modules/webhooks/targets.ts";
import { Vault } from "../../../../server/vault.ts";
import { authStack, quickUser, testConfig } from "../../../support/db.ts";
import { eventually } from "../../../support/fakes.ts";
import { command, requires } from "../../../support/requires.ts";
import { tempDir } from "../../../support/tmp.ts";

const haveOpenssl = await requires(command("openssl", "openssl"), "the https pinning test's certificate");

/** A resolver that answers `answers[n]` to its n-th question (the last one from then on), recording them. */
function rebindingResolver(answers: string[][]): HostLookup & { asked: string[] } {
  const asked: string[] = [];
  const lookup = async (host: string) => {
    const answer = answers[Math.min(asked.length, answers.length - 1)]!;
    asked.push(host);
    return answer.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(lookup, { asked });
}

/** An HTTP receiver on `hostname` recording the Host header of each request. */
function receiver(hostname: string, port = 0) {
  const hosts: string[] = [];
  const server: Server<undefined> = Bun.serve({
    port,
    hostname,
    fetch(req) {
      hosts.push(req.headers.get("host") ?? "");
      return new Response("", { status: 200 });
    },
  });
  return { hosts, port: server.port!, stop: () => server.stop(true) };
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

async function service(name: string, lookup: HostLookup, webhooks: Record<string, unknown>) {
  const t = authStack();
  const { user } = await quickUser(t, name);
  const config = testConfig({ webhooks: { retry_delays_seconds: [], timeout_seconds: 1, ...webhooks } }).webhooks;
  const s = new WebhookService(t.db, Vault.forDataDir(t.dir), config, lookup);
  stops.push(() => s.stop());
  return { s, user };
}

describe("webhook deliveries are pinned to the address they checked", () => {
  test("a name that answers a public address, then 127.0.0.1, never reaches loopback", async () => {
    const local = receiver("127.0.0.1");
    stops.push(local.stop);
    // `localhost` also resolves to 127.0.0.1 through the system's resolver: a client that looked the name
    // up again after the check would land on the receiver.
    const dns = rebindingResolver([["93.184.216.34"], ["127.0.0.1"]]);
    const { s, user } = await service("alice", dns, { allow_private_targets: false });
    const url = `http://localhost:${local.port}/hook`;
    s.publish(user.id, "task.succeeded", { task: { id: "t1" } }, { taskId: "t1", extraUrl: url });
    await eventually(() => s.deliveries(user.id)[0]?.status === "failed", "the attempt to end", 15_000);
    const [first] = s.deliveries(user.id);
    // One question per attempt: the public answer was checked and connected to (it is unreachable from here).
    expect(dns.asked).toEqual(["localhost"]);
    expect(first!.response_status).toBeNull();
    expect(first!.last_error).toMatch(/93\.184\.216\.34|no answer within/);
    expect(local.hosts).toEqual([]);

    // The next attempt's question gets 127.0.0.1: refused before any connection.
    s.publish(user.id, "task.failed", { task: { id: "t2" } }, { taskId: "t2", extraUrl: url });
    await eventually(() => s.deliveries(user.id).length === 2 && s.deliveries(user.id)[0]!.status === "failed", "the second attempt to end", 15_000);
    expect(dns.asked).toEqual(["localhost", "localhost"]);
    expect(s.deliveries(user.id)[0]!.last_error).toContain("loopback address (127.0.0.1)");
    expect(local.hosts).toEqual([]);
  });

  test("the connection goes to the checked address with the original name as Host, not to a later answer", async () => {
    const checked = receiver("127.0.0.1");
    const later = receiver("127.0.0.2", checked.port); // same port, another loopback address
    stops.push(checked.stop, later.stop);
    const dns = rebindingResolver([["127.0.0.1"], ["127.0.0.2"]]);
    const { s, user } = await service("bob", dns, { allow_private_targets: true });
    // hooks.example.test exists only in the test's resolver: the request can arrive only through its answer.
    s.publish(user.id, "task.succeeded", { task: { id: "t1" } }, { taskId: "t1", extraUrl: `http://hooks.example.test:${checked.port}/hook` });
    await eventually(() => s.deliveries(user.id)[0]?.status === "delivered", "the delivery", 15_000);
    expect(dns.asked).toEqual(["hooks.example.test"]);
    expect(checked.hosts).toEqual([`hooks.example.test:${checked.port}`]);
    expect(later.hosts).toEqual([]);
  });

  test.skipIf(!haveOpenssl)("https: SNI carries the original name and the certificate is verified against it", async () => {
    const dir = tempDir("tls-");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1", "-subj", "/CN=hooks.example.test", "-addext", "subjectAltName=DNS:hooks.example.test"], { stdio: "ignore" });
    const key = await Bun.file(join(dir, "k.pem")).text();
    const cert = await Bun.file(join(dir, "c.pem")).text();
    const names: string[] = [];
    const server = tls.createServer({
      key,
      cert,
      SNICallback: (name, cb) => {
        names.push(name);
        cb(null, tls.createSecureContext({ key, cert }));
      },
    });
    server.on("tlsClientError", () => undefined);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    stops.push(() => server.close());
    const port = (server.address() as { port: number }).port;
    const dns = rebindingResolver([["127.0.0.1"]]);
    const { s, user } = await service("carol", dns, { allow_private_targets: true });
    s.publish(user.id, "task.succeeded", { task: { id: "t1" } }, { taskId: "t1", extraUrl: `https://hooks.example.test:${port}/hook` });
    await eventually(() => s.deliveries(user.id)[0]?.status === "failed", "the attempt to end", 15_000);
    // The self-signed certificate names hooks.example.test: verification ran against that name and refused
    // the unknown issuer (not a name mismatch, which checking against 127.0.0.1 would have given).
    expect(s.deliveries(user.id)[0]!.last_error).toMatch(/self.signed/i);
    expect(names).toEqual(["hooks.example.test"]);
  });
});
