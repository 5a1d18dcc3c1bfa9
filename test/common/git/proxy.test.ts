/**
 * A fenced clone or push job (common/git/proxy.ts): every connection of git's goes through the HTTP proxy the
 * runtime names, for each transport: http (`http.proxy`, absolute-form requests), git:// (`GIT_PROXY_COMMAND`)
 * and ssh (`ProxyCommand`), both the real `octo proxy-connect` from source. The proxy here is a small
 * forwarding proxy of the test's that records every request and refuses the addresses it is told to, the
 * way the sidecar's tinyproxy does; the servers are real `git daemon`, `git http-backend` and OpenSSH sshd.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, createServer, type Server, type Socket } from "node:net";
import { pushBranch } from "../../../common/git/changes.ts";
import { cloneRepository } from "../../../common/git/clone.ts";
import { throughProxy } from "../../../common/git/proxy.ts";
import { parseRepositoryUrl } from "../../../common/git/url.ts";
import { selfCommand } from "../../../server/runtime/binaries.ts";
import { type GitServer, gitLog, knownHostsLine, makeRepository, sshKeyPair, type SshGitServer, startGitDaemon, startHttpBackend, startSshd, testGit } from "../../support/git-servers.ts";
import { command, requires } from "../../support/requires.ts";
import { tempDir } from "../../support/tmp.ts";

interface TestProxy {
  url: string;
  /** "CONNECT host:port" or "GET http://host:port/path", in order. */
  requests: string[];
  /** `host:port` targets answered 403. */
  refuse: Set<string>;
  stop(): void;
}

/** A forwarding proxy: CONNECT tunnels and absolute-form HTTP (the first request's line decides the upstream). */
async function startProxy(): Promise<TestProxy> {
  const requests: string[] = [];
  const refuse = new Set<string>();
  const server: Server = createServer((client: Socket) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      client.off("data", onData);
      const line = head.subarray(0, head.indexOf("\r\n")).toString("latin1");
      const [method, target] = line.split(" ");
      const address = method === "CONNECT" ? target! : new URL(target!).host;
      requests.push(`${method} ${target}`);
      if (refuse.has(address)) {
        client.end("HTTP/1.1 403 Filtered\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
      const upstream = connect({ host, port }, () => {
        if (method === "CONNECT") client.write("HTTP/1.1 200 Connection established\r\n\r\n");
        else upstream.write(head);
        if (method === "CONNECT" && head.length > end + 4) upstream.write(head.subarray(end + 4));
        client.pipe(upstream);
        upstream.pipe(client);
      });
      // Later requests on a kept-alive connection go to the same upstream, absolute-form: recorded too.
      client.on("data", (more: Buffer) => {
        const text = more.toString("latin1");
        const next = /^(GET|POST) (http:\/\/\S+) HTTP/.exec(text);
        if (next) requests.push(`${next[1]} ${next[2]}`);
      });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    };
    client.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, requests, refuse, stop: () => server.close() };
}

const self = selfCommand();
const base = tempDir("proxy-base-");
const repo = makeRepository(base, "fenced", { "a.txt": "a\n" });
let proxy: TestProxy;
let daemon: GitServer;
let http: GitServer;
beforeAll(async () => {
  proxy = await startProxy();
  daemon = await startGitDaemon(base);
  http = await startHttpBackend(base);
});
afterAll(async () => {
  proxy?.stop();
  await daemon?.stop();
  await http?.stop();
});

async function clone(url: string, knownHosts = "", credential: Parameters<typeof cloneRepository>[0]["credential"] = null) {
  const workspace = tempDir("proxy-ws-");
  const lines: string[] = [];
  const head = await cloneRepository({ workspace, url, credential, knownHosts, proxy: { url: proxy.url, self }, write: (line) => lines.push(line) });
  return { workspace, head, last: lines.at(-1) ?? "" };
}

describe("a fenced job's git goes through the proxy", () => {
  test("http: clone and push are absolute-form requests to the proxy, and nothing else", async () => {
    const url = `${http.url}/fenced.git`;
    const address = new URL(url).host;
    proxy.requests.length = 0;
    const direct = http.requests.length;
    const { workspace, head } = await clone(url);
    expect(head).toBe(repo.head);
    testGit(["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "fenced push"], workspace);
    await pushBranch(workspace, url, "via-http", null, "", { url: proxy.url, self });
    expect(gitLog(repo.path, "via-http")[0]!.subject).toBe("fenced push");
    expect(proxy.requests.length).toBeGreaterThanOrEqual(4);
    for (const request of proxy.requests) expect(request).toMatch(new RegExp(`^(GET|POST) http://${address}/git/fenced\\.git/`));
    // Every request the server saw came through the proxy (as many as the proxy forwarded).
    expect(http.requests.length - direct).toBe(proxy.requests.length);
  });

  test("git://: a CONNECT tunnel through octo proxy-connect; refused by the proxy, the clone fails with its answer", async () => {
    const url = `${daemon.url}/fenced.git`;
    const address = new URL(url).host;
    proxy.requests.length = 0;
    const { workspace, head } = await clone(url);
    expect(head).toBe(repo.head);
    expect(proxy.requests).toEqual([`CONNECT ${address}`]);
    testGit(["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "over git"], workspace);
    await pushBranch(workspace, url, "via-git", null, "", { url: proxy.url, self });
    expect(gitLog(repo.path, "via-git")[0]!.subject).toBe("over git");

    proxy.refuse.add(address);
    try {
      const refused = await clone(url);
      expect(refused.head).toBeNull();
      expect(refused.last).toContain(`error: octo proxy-connect: the proxy refused ${address}: HTTP/1.1 403 Filtered`);
    } finally {
      proxy.refuse.delete(address);
    }
  });

  test("a proxy that is not http://<IPv4>:<port> is refused before git runs", () => {
    const auth = { config: [], cleanup() {} };
    expect(() => throughProxy(auth, parseRepositoryUrl("https://example.com/a.git"), "http://proxy.example:3128", self)).toThrow(/OCTO_GIT_PROXY/);
    expect(throughProxy(auth, parseRepositoryUrl("https://example.com/a.git"), undefined, self)).toBe(auth);
  });
});

const haveSshd = await requires(command("sshd", "openssh-server"), "a fenced clone over SSH");
describe.skipIf(!haveSshd)("a fenced job over ssh", () => {
  test("ssh reaches the server only through a CONNECT tunnel, the host key still checked", async () => {
    const key = sshKeyPair();
    const ssh: SshGitServer = await startSshd(base, key.publicKey);
    try {
      const url = `${ssh.url}/fenced.git`;
      proxy.requests.length = 0;
      const { head, last } = await clone(url, knownHostsLine(ssh), { kind: "ssh_key", host: parseRepositoryUrl(url).host, privateKey: key.privateKey });
      expect([head, last]).toEqual([repo.head, `octo-clone: base ${repo.head}`]);
      expect(proxy.requests).toEqual([`CONNECT 127.0.0.1:${ssh.port}`]);
    } finally {
      await ssh.stop();
    }
  });
});
