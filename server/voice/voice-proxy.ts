/**
 * The voice proxy: `/api/voice/stt` -> the eaRS speech-to-text server (`[voice] stt_url`) and
 * `/api/voice/tts` -> the kokorox text-to-speech server (`[voice] tts_url`), WebSocket only, through one
 * http-proxy-3 instance. Protocols: docs/voice.md.
 *
 * The one admission path of the API and the session proxy (http/admission.ts), checked before any byte goes
 * upstream: the upgrade is authenticated (cookie, Bearer or `?token=`), must come from octo's own site (or
 * from `[server] allowed_origins`), and octo's credentials, every other cookie (they belong to octo's
 * origin, not to the voice server) and the query string never reach the voice server. An open voice
 * connection is closed when its login is revoked (http/live-connections.ts). Refusals are a status line with
 * `{ error, code }` JSON:
 *
 * | status | code | when |
 * | --- | --- | --- |
 * | 404 | `VOICE_DISABLED` | `[voice] enabled = false` (checked first: no auth needed to learn that) |
 * | 401 / 403 | `UNAUTHORIZED`, `INVALID_TOKEN`, `CROSS_ORIGIN` | as for the session proxy |
 * | 426 | `UPGRADE_REQUIRED` | a plain HTTP request to an enabled voice endpoint whose server accepts connections |
 * | 503 | `VOICE_UNAVAILABLE` | the voice server refused or did not complete the handshake in time |
 *
 * The request's id goes to the voice server as `X-Request-Id` and comes back on the 101 (http/request-id.ts).
 *
 * A plain HTTP `GET` is how the web app learns why a WebSocket failed (browsers hide the status of a refused
 * upgrade): it answers the same refusals, and otherwise tries a TCP connection to the voice server, answering
 * 503 when that fails and 426 when it works.
 *
 * "In time": connecting gives up after {@link CONNECT_TIMEOUT_MS}, the whole handshake after
 * {@link HANDSHAKE_TIMEOUT_MS}, so a voice server that is down or hung never leaves the browser waiting.
 * After the handshake the two sockets are piped: frames (text and binary) pass unchanged both ways, and a
 * close on either side closes the other.
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { createProxyServer } from "http-proxy-3";
import type { OctoConfig } from "../config/schema.ts";
import { OctoError } from "../../common/errors.ts";
import { type Admission, type Admitted, stripCredentials } from "../http/admission.ts";
import { replyError, sendError } from "../http/error-response.ts";
import { setUpgradeStatus } from "../http/access-log.ts";
import { requestId, requestInfo } from "../http/request-id.ts";
import { createLogger } from "../../common/log.ts";
import { upstreamErrors } from "../metrics.ts";

const log = createLogger("voice");

/** Bound on the TCP connect to a voice server, ms. */
export const CONNECT_TIMEOUT_MS = 3000;
/** Bound on the whole upstream handshake (connecting plus the voice server's 101 answer), ms. */
export const HANDSHAKE_TIMEOUT_MS = 5000;

/** Which voice service a URL names. */
export type VoiceService = "stt" | "tts";

const NAMES: Record<VoiceService, string> = { stt: "speech-to-text", tts: "text-to-speech" };
const PATTERN = /^\/api\/voice\/(stt|tts)(?:\?.*)?$/;

/** The voice service of `/api/voice/stt` or `/api/voice/tts` (query allowed), otherwise null. */
export function parseVoiceUrl(url: string | undefined): VoiceService | null {
  const match = url === undefined ? null : PATTERN.exec(url);
  return match ? (match[1] as VoiceService) : null;
}

/** True for URLs this proxy handles: everything under `/api/voice/` (unknown names answer 404 here). */
export function isVoiceUrl(url: string | undefined): boolean {
  return url !== undefined && (url === "/api/voice" || url.startsWith("/api/voice/") || url.startsWith("/api/voice?"));
}

/** A target object for http-proxy-3 with an explicit port (it reads `URL.port`, which is "" for defaults). */
interface ProxyTarget {
  protocol: string;
  host: string;
  hostname: string;
  port: number;
  pathname: string;
  search: string;
}

/** Turns a `ws:`/`wss:` URL into an http-proxy-3 target. */
export function voiceTarget(url: string): ProxyTarget {
  const parsed = new URL(url);
  const secure = parsed.protocol === "wss:";
  const port = parsed.port ? Number(parsed.port) : secure ? 443 : 80;
  return {
    protocol: secure ? "https:" : "http:",
    host: `${parsed.hostname}:${port}`,
    hostname: parsed.hostname,
    port,
    pathname: parsed.pathname || "/",
    search: parsed.search,
  };
}

/** What the voice proxy needs: the admission path and the `[voice]` section. */
export interface VoiceProxyDeps {
  admission: Admission;
  voice: OctoConfig["voice"];
  /** Override of {@link CONNECT_TIMEOUT_MS} / {@link HANDSHAKE_TIMEOUT_MS}, ms (tests). */
  timeouts?: { connectMs?: number; handshakeMs?: number };
}

/** See the module doc. One instance per server; {@link close} when the server stops. */
export class VoiceProxy {
  private readonly proxy;
  private readonly connectTimeout: number;
  private readonly targets: Record<VoiceService, ProxyTarget>;
  private readonly pending = new Set<ClientRequest>();
  /** Client sockets of open voice connections, closed by {@link close} (the voice servers outlive octo). */
  private readonly sockets = new Set<Duplex>();
  /** Which service each proxied request is for, to name it in errors. */
  private readonly services = new WeakMap<IncomingMessage, VoiceService>();
  /** The voice server's socket of each open connection, by its client socket (to close both on revocation). */
  private readonly upstreams = new WeakMap<Duplex, Duplex>();

  constructor(private readonly deps: VoiceProxyDeps) {
    this.targets = { stt: voiceTarget(deps.voice.stt_url), tts: voiceTarget(deps.voice.tts_url) };
    this.connectTimeout = deps.timeouts?.connectMs ?? CONNECT_TIMEOUT_MS;
    const handshakeMs = deps.timeouts?.handshakeMs ?? HANDSHAKE_TIMEOUT_MS;
    this.proxy = createProxyServer({ connectTimeout: this.connectTimeout, ignorePath: true, changeOrigin: true, xfwd: true });
    this.proxy.on("proxyReqWs", (proxyReq: ClientRequest) => {
      // Bound the handshake: a server that accepts the connection but never answers must not hang the client.
      this.pending.add(proxyReq);
      const timer = setTimeout(() => proxyReq.destroy(Object.assign(new Error("handshake timeout"), { code: "ETIMEDOUT" })), handshakeMs);
      const done = () => {
        clearTimeout(timer);
        this.pending.delete(proxyReq);
      };
      proxyReq.once("upgrade", done);
      proxyReq.once("response", done);
      proxyReq.once("close", done);
    });
    this.proxy.on("error", (err, req, res) => {
      const service = this.services.get(req as IncomingMessage) ?? "stt";
      const id = requestId(req as IncomingMessage);
      log.warn("voice server error", { request: id, service, error: (err as NodeJS.ErrnoException).code ?? err.message });
      upstreamErrors.inc({ entry: "voice", service });
      replyError(res as ServerResponse | Duplex, new OctoError(503, "VOICE_UNAVAILABLE", `The ${NAMES[service]} server is not answering`), id);
    });
    this.proxy.on("proxyReqWs", (proxyReq: ClientRequest, req: IncomingMessage, socket: Duplex) => {
      proxyReq.once("upgrade", (upstreamRes: IncomingMessage, upstream: Duplex) => {
        this.upstreams.set(socket, upstream);
        upstreamRes.headers["x-request-id"] = requestId(req);
        setUpgradeStatus(socket, 101, "voice");
      });
    });
  }

  /**
   * Checks an upgrade or request: voice enabled, known endpoint, then the admission path (same site always).
   * @throws OctoError 404/401/403 as in the module doc.
   */
  private async admit(req: IncomingMessage): Promise<{ service: VoiceService; admitted: Admitted }> {
    if (!this.deps.voice.enabled) throw new OctoError(404, "VOICE_DISABLED", "Voice mode is not enabled on this server");
    const service = parseVoiceUrl(req.url);
    if (!service) throw new OctoError(404, "NOT_FOUND", "No voice endpoint here");
    requestInfo(req).route = `/api/voice/${service}`;
    const admitted = await this.deps.admission.admit(req, { queryToken: true, sameOrigin: "always" });
    return { service, admitted };
  }

  /** Proxies a WebSocket upgrade under `/api/voice/`. Never throws; refused upgrades get a status line. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    let admission;
    try {
      admission = await this.admit(req);
    } catch (err) {
      replyError(socket, err, requestId(req));
      return;
    }
    const { service, admitted } = admission;
    const release = this.deps.admission.hold(admitted, () => {
      this.upstreams.get(socket)?.destroy();
      socket.destroy();
    });
    socket.once("close", release);
    this.services.set(req, service);
    stripCredentials(req);
    delete req.headers.cookie;
    req.url = "/";
    req.headers["x-request-id"] = requestId(req);
    log.debug("voice connection", { service });
    this.proxy.ws(req, socket, head, { target: this.targets[service] as never });
  }

  /** Plain HTTP under `/api/voice/`: refusals, 503 when the voice server is down, else 426. Never throws. */
  async web(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    try {
      const { service } = await this.admit(req);
      if (!(await reachable(this.targets[service], this.connectTimeout))) {
        throw new OctoError(503, "VOICE_UNAVAILABLE", `The ${NAMES[service]} server is not answering`);
      }
      sendError(res, new OctoError(426, "UPGRADE_REQUIRED", "The voice endpoints are WebSockets"), requestId(req));
    } catch (err) {
      replyError(res, err, requestId(req));
    }
  }

  /** Aborts handshakes in progress, closes every voice connection and the proxy. */
  close(): void {
    for (const proxyReq of this.pending) proxyReq.destroy();
    this.pending.clear();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.proxy.close();
  }
}

/** True when a TCP connection to `target` opens within `timeoutMs`. */
function reachable(target: ProxyTarget, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.hostname.replace(/^\[|\]$/g, ""), port: target.port });
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}
