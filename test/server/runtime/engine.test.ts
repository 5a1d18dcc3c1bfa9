/**
 * A Docker engine over TCP with TLS (`[swarm] socket = "tcp://..."` with `tls_ca`, `tls_cert`, `tls_key`):
 * a real `dockerd --tlsverify` started by `.ci/docker-setup` as a daemon of its own (`octo-docker-tls`,
 * no bridge, no iptables, so it leaves the main test daemon alone), certificates made with openssl. octo
 * connects with the client certificate, and is refused without one or with one from another CA.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { OctoConfig } from "../../../server/config/schema.ts";
import { connectEngine } from "../../../server/runtime/engine.ts";
import { createSwarmRuntime } from "../../../server/runtime/swarm.ts";
import { dockerSetup } from "../../support/docker.ts";
import { freePort } from "../../support/opencode.ts";
import { expectOctoError } from "../../support/podman.ts";
import { type Component, requires } from "../../support/requires.ts";
import { tempDir } from "../../support/tmp.ts";

setDefaultTimeout(60_000);

const DAEMON = { OCTO_DOCKER_NAME: "octo-docker-tls" };
const TLS_DOCKERD: Component = {
  name: "dockerd and openssl, as root",
  install: "run the tests as root after bash .ci/setup (docker.io; openssl is part of Debian's base system)",
  problem: () => (process.getuid?.() !== 0 ? "not root" : !Bun.which("openssl") ? "openssl is not on PATH" : null),
};
const haveTls = await requires(TLS_DOCKERD, "the engine over TCP with TLS");

/** Runs openssl with `args` in `dir`. @throws Error with its stderr. */
function openssl(dir: string, args: string[]): void {
  const result = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${result.stderr}`);
}

/** A CA (`<name>-ca.pem`) and a certificate it signed (`<name>-cert.pem`, `<name>-key.pem`) for `subject`. */
function certificates(dir: string, name: string, subject: string, ext: string): { ca: string; cert: string; key: string } {
  const f = (s: string) => join(dir, `${name}-${s}`);
  openssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=${name} test CA`, "-keyout", f("ca-key.pem"), "-out", f("ca.pem")]);
  openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", f("key.pem"), "-out", f("csr.pem")]);
  Bun.write(f("ext.cnf"), ext);
  openssl(dir, ["x509", "-req", "-in", f("csr.pem"), "-CA", f("ca.pem"), "-CAkey", f("ca-key.pem"), "-CAcreateserial", "-days", "1", "-extfile", f("ext.cnf"), "-out", f("cert.pem")]);
  return { ca: f("ca.pem"), cert: f("cert.pem"), key: f("key.pem") };
}

describe.skipIf(!haveTls)("the engine over TCP with TLS", () => {
  const dir = tempDir("engine-tls-");
  let socket = "";
  let client: { ca: string; cert: string; key: string };
  let stranger: { ca: string; cert: string; key: string };

  beforeAll(async () => {
    const server = certificates(dir, "server", "/CN=127.0.0.1", "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n");
    // Clients of the daemon's CA: the daemon's own CA signs octo's client certificate.
    client = certificates(dir, "client", "/CN=octo", "extendedKeyUsage = clientAuth\n");
    stranger = certificates(dir, "stranger", "/CN=intruder", "extendedKeyUsage = clientAuth\n");
    const port = await freePort();
    socket = `tcp://127.0.0.1:${port}`;
    // The daemon trusts the client CA; octo trusts the server CA.
    const args = [
      "--bridge=none",
      "--iptables=false",
      "--ip-masq=false",
      "--tlsverify",
      `--tlscacert=${client.ca}`,
      `--tlscert=${server.cert}`,
      `--tlskey=${server.key}`,
      `-H=${socket}`,
    ];
    dockerSetup(["start", "--holder", String(process.pid)], { ...DAEMON, OCTO_DOCKER_ARGS: args.join(" ") });
    client = { ...client, ca: server.ca };
    stranger = { ...stranger, ca: server.ca };
  });

  afterAll(() => {
    dockerSetup(["stop", "--holder", String(process.pid)], DAEMON);
  });

  test("with the client certificate octo connects and identifies Docker", async () => {
    const engine = await connectEngine(socket, { tls: client, timeoutMs: 5000 });
    expect(engine).toMatchObject({ socket, name: "docker", rootless: false });
    expect(engine.version).toMatch(/^\d+\.\d+/);
  });

  test("without a client certificate, or with one of another CA, the daemon refuses", async () => {
    expect((await expectOctoError(connectEngine(socket, { timeoutMs: 5000 }))).code).toBe("ENGINE_UNAVAILABLE");
    expect((await expectOctoError(connectEngine(socket, { tls: stranger, timeoutMs: 5000 }))).code).toBe("ENGINE_UNAVAILABLE");
  });

  test("[swarm] tls_* reach the manager connection: a daemon that is no manager is named as such", async () => {
    const config = OctoConfig.parse({ swarm: { socket, tls_ca: client.ca, tls_cert: client.cert, tls_key: client.key } });
    const err = await expectOctoError(createSwarmRuntime(config, { dataDir: tempDir("engine-tls-data-") }));
    expect(err.code).toBe("SWARM_UNAVAILABLE");
    expect(err.message).toContain(`${socket} is not a Docker Swarm manager (swarm state inactive)`);
  });
});

/**
 * A stand-in for a daemon that is just starting: a Unix socket that resets its first `resets` connections,
 * then answers `/_ping`, `/version` and `/info` as Docker Engine does (only what connectEngine reads).
 */
async function unreadyEngine(resets: number): Promise<{ socket: string; connections: () => number; close: () => void }> {
  const { createServer } = await import("node:net");
  const path = join(tempDir("unready-engine"), "docker.sock");
  let connections = 0;
  const server = createServer((conn) => {
    connections++;
    if (connections <= resets) return void conn.resetAndDestroy();
    conn.once("data", (data) => {
      const target = data.toString().split(" ")[1] ?? "";
      const body = target.startsWith("/_ping") ? "OK" : target.startsWith("/version") ? JSON.stringify({ Version: "20.10.24" }) : JSON.stringify({ SecurityOptions: [] });
      const type = target.startsWith("/_ping") ? "text/plain" : "application/json";
      conn.end(`HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { socket: `unix://${path}`, connections: () => connections, close: () => server.close() };
}

describe("connectEngine and an engine that is not ready yet", () => {
  test("connections reset by a starting daemon are tried again until it answers", async () => {
    const engine = await unreadyEngine(2);
    try {
      const connected = await connectEngine(engine.socket, { timeoutMs: 2000, readyTimeoutMs: 10_000 });
      expect([connected.name, connected.version]).toEqual(["docker", "20.10.24"]);
      expect(engine.connections()).toBeGreaterThan(2);
    } finally {
      engine.close();
    }
  });

  test("past readyTimeoutMs it is ENGINE_UNAVAILABLE; a missing socket fails at once", async () => {
    const engine = await unreadyEngine(1000);
    try {
      const err = await expectOctoError(connectEngine(engine.socket, { timeoutMs: 2000, readyTimeoutMs: 2500 }));
      expect([err.status, err.code]).toEqual([503, "ENGINE_UNAVAILABLE"]);
      expect(engine.connections()).toBeGreaterThan(1);
    } finally {
      engine.close();
    }
    const started = Date.now();
    const missing = await expectOctoError(connectEngine(`unix://${join(tempDir("no-engine"), "docker.sock")}`, { readyTimeoutMs: 10_000 }));
    expect([missing.status, missing.code]).toEqual([503, "ENGINE_UNAVAILABLE"]);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
