/**
 * The voice proxy (`/api/voice/stt`, `/api/voice/tts`) behind a real node:http server, in front of the fake
 * eaRS and kokorox servers (test/support/voice-fakes.ts) and of plain sockets that misbehave: auth and origin
 * rules, what reaches the voice server, frames unchanged both ways, and voice servers that are down or hang.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import type { Server as BunServer } from "bun";
import { decodeWav } from "../../../frontend/src/voice/audio.ts";
import { isVoiceUrl, parseVoiceUrl, VoiceProxy, voiceTarget } from "../../../server/voice/voice-proxy.ts";
import { createAdmission } from "../../../server/app.ts";
import { OctoConfig } from "../../../server/config/schema.ts";
import type { AuthService } from "../../../server/modules/auth/service.ts";
import { startAccessWatch } from "../../../server/access-watch.ts";
import { type AuthStack, authStack, quickUser } from "../../support/db.ts";
import { sessionStack } from "../../support/fakes.ts";
import {
  concat,
  type FakeEars,
  type FakeKokoro,
  float32Bytes,
  ofType,
  openSocket,
  scriptInOrder,
  silence,
  startFakeEars,
  startFakeKokoro,
  toneSamples,
} from "../../support/voice-fakes.ts";

describe("voice URLs", () => {
  test("parseVoiceUrl / isVoiceUrl", () => {
    expect(parseVoiceUrl("/api/voice/stt")).toBe("stt");
    expect(parseVoiceUrl("/api/voice/tts?token=x")).toBe("tts");
    for (const url of ["/api/voice/stt/", "/api/voice/sttx", "/api/voice", "/api/voices/stt", "/session/x/code", undefined]) {
      expect(parseVoiceUrl(url)).toBeNull();
    }
    expect(isVoiceUrl("/api/voice/anything")).toBe(true);
    expect(isVoiceUrl("/api/voice")).toBe(true);
    expect(isVoiceUrl("/api/voices")).toBe(false);
    expect(isVoiceUrl("/api/features")).toBe(false);
  });

  test("voiceTarget gives http-proxy-3 an explicit port and keeps the server's path", () => {
    expect(voiceTarget("ws://127.0.0.1:8765")).toMatchObject({ protocol: "http:", hostname: "127.0.0.1", port: 8765, pathname: "/" });
    expect(voiceTarget("wss://voice.example.com/tts?x=1")).toMatchObject({ protocol: "https:", port: 443, host: "voice.example.com:443", pathname: "/tts", search: "?x=1" });
    expect(voiceTarget("ws://voice.example.com").port).toBe(80);
  });
});

/** A validated config with per-section overrides. */
const testConfig = (overrides: Record<string, Record<string, unknown>>) => OctoConfig.parse(overrides);

/** The real auth services over a fresh database, and a token for one user of it. */
async function authWithUser(username: string): Promise<{ stack: AuthStack; token: string; userId: string }> {
  const stack = authStack();
  const { user, token } = await quickUser(stack, username);
  return { stack, token, userId: user.id };
}

/** The admission path over `auth` for a config with these sections. */
const admissionFor = (auth: AuthService, config: OctoConfig) => createAdmission(auth, config);

/** A node:http front like server.ts, routing `/api/voice/*` to a VoiceProxy. */
async function front(proxy: VoiceProxy): Promise<{ server: Server; port: number; base: string; close(): Promise<void> }> {
  const server = createServer((req, res) => void proxy.web(req, res));
  server.on("upgrade", (req, socket, head) => void proxy.upgrade(req, socket, head));
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    base: `http://127.0.0.1:${port}`,
    async close() {
      proxy.close();
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

/** Sends a WebSocket upgrade over a raw socket; answers the status line's code, the body and whether it closed. */
function upgradeAnswer(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      const cut = data.indexOf("\r\n\r\n");
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), body: cut >= 0 ? data.slice(cut + 4) : "", closed });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      finish(false);
    }, 15_000);
    socket.on("connect", () => {
      const head = { Host: `127.0.0.1:${port}`, Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "MDEyMzQ1Njc4OWFiY2RlZg==", ...headers };
      socket.write(`GET ${path} HTTP/1.1\r\n${Object.entries(head).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`);
    });
    socket.on("data", (chunk) => (data += chunk.toString()));
    socket.on("error", () => undefined);
    socket.on("close", () => finish(true));
  });
}

const code = (body: string) => (JSON.parse(body) as { code: string }).code;

describe("VoiceProxy", () => {
  let auth: AuthService;
  let stack: AuthStack;
  let ears: FakeEars;
  let kokoro: FakeKokoro;
  let echo: BunServer<undefined>;
  let proxy: Awaited<ReturnType<typeof front>>;
  let alice: string;
  const origin = () => proxy.base;

  beforeAll(async () => {
    ({ stack, token: alice } = await authWithUser("alice"));
    auth = stack.auth;
    ears = await startFakeEars();
    kokoro = await startFakeKokoro();
    echo = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("no", { status: 400 })),
      websocket: { message: (ws, message) => void ws.send(message) },
    });
    const config = testConfig({ voice: { enabled: true, stt_url: ears.url, tts_url: kokoro.url }, server: { allowed_origins: ["https://octo.example.com"] } });
    proxy = await front(new VoiceProxy({ admission: admissionFor(auth, config), voice: config.voice }));
  });

  afterAll(async () => {
    await proxy.close();
    await ears.stop();
    await kokoro.stop();
    echo.stop(true);
  });

  test("speech-to-text end to end: audio in, words out; no octo credential reaches eaRS", async () => {
    ears.script = scriptInOrder("list the files please");
    const before = ears.connections.length;
    const ws = openSocket(`ws://127.0.0.1:${proxy.port}/api/voice/stt?token=${alice}`, { origin: origin(), cookie: "theme=dark" });
    await ws.opened;
    // 1 s of tone (the "speech"), then 0.6 s of silence, in 100 ms frames as a browser would send them.
    const audio = concat(silence(0.2), toneSamples("x".repeat(16)), silence(0.6));
    for (let at = 0; at < audio.length; at += 2400) ws.ws.send(float32Bytes(audio.subarray(at, at + 2400)));
    const final = await ws.next(ofType("final"));
    expect(final.text).toBe("list the files please");
    const words = ws.received.filter(ofType("word")) as { word: string; start_time: number; end_time: number }[];
    expect(words.map((w) => w.word)).toEqual(["list", "the", "files", "please"]);
    expect(words[0]!.start_time).toBeGreaterThanOrEqual(0.15);
    expect(words[3]!.end_time).toBeLessThanOrEqual(1.3);
    expect(ws.received.some(ofType("pause"))).toBe(true);

    const upstream = ears.connections[before]!;
    expect(upstream.path).toBe("/");
    expect(upstream.headers.authorization).toBeUndefined();
    expect(upstream.headers.cookie).toBeUndefined();
    expect(JSON.stringify(upstream)).not.toContain(alice);
    // Every frame arrived byte for byte.
    expect(upstream.binary.length).toBe(Math.ceil(audio.length / 2400));
    expect(Buffer.concat(upstream.binary)).toEqual(Buffer.from(float32Bytes(audio)));

    ws.json({ type: "stop" });
    expect(await ws.closed).toBe(1000);
  });

  test("text-to-speech end to end: voices, speed, WAV chunks per sentence", async () => {
    const ws = openSocket(`ws://127.0.0.1:${proxy.port}/api/voice/tts`, { authorization: `Bearer ${alice}` });
    await ws.opened;
    ws.json({ command: "list_voices" });
    const voices = await ws.next(ofType("voices"));
    expect(voices.voice).toBe("af_heart");
    expect(voices.voices).toContain("bf_emma");
    ws.json({ command: "set_voice", voice: "bf_emma" });
    ws.json({ command: "set_speed", speed: 1.4 });
    ws.json({ command: "synthesize", text: "Hello there. The files are listed!" });
    await ws.next(ofType("synthesis_completed"), 30_000);
    const chunks = ws.received.filter(ofType("audio_chunk")) as { chunk: string; index: number; total: number; sample_rate: number }[];
    expect(chunks.map((c) => [c.index, c.total, c.sample_rate])).toEqual([[0, 2, 24000], [1, 2, 24000]]);
    for (const c of chunks) {
      const wav = decodeWav(new Uint8Array(Buffer.from(c.chunk, "base64")));
      expect([wav.sampleRate, wav.channels, wav.bitsPerSample]).toEqual([24000, 1, 16]);
      expect(wav.samples.length).toBeGreaterThan(2400);
    }
    expect(kokoro.syntheses.at(-1)).toMatchObject({ voice: "bf_emma", speed: 1.4, completed: true, chunks: 2 });
    ws.ws.close();
  });

  test("binary frames pass unchanged both ways, small and large", async () => {
    const config = testConfig({ voice: { enabled: true, stt_url: `ws://127.0.0.1:${echo.port}`, tts_url: kokoro.url } });
    const local = await front(new VoiceProxy({ admission: admissionFor(auth, config), voice: config.voice }));
    try {
      const ws = openSocket(`ws://127.0.0.1:${local.port}/api/voice/stt`, { authorization: `Bearer ${alice}` });
      await ws.opened;
      const frames = [new Uint8Array([0, 255, 1, 254]), crypto.getRandomValues(new Uint8Array(65_536)), new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251)];
      for (const frame of frames) ws.ws.send(frame);
      ws.ws.send("text stays text");
      await ws.next((f) => f === "text stays text", 20_000);
      const binary = ws.received.filter((f) => f instanceof Uint8Array) as Uint8Array[];
      expect(binary.length).toBe(3);
      for (const [i, frame] of frames.entries()) expect(Buffer.from(binary[i]!).equals(Buffer.from(frame))).toBe(true);
      ws.ws.close();
    } finally {
      await local.close();
    }
  });

  test("refused upgrades: status line with JSON, socket closed, nothing reaches the voice server", async () => {
    const before = ears.connections.length + kokoro.connections.length;
    const cases: [string, Record<string, string>, number, string][] = [
      ["/api/voice/stt", {}, 401, "UNAUTHORIZED"],
      ["/api/voice/tts?token=nope", {}, 401, "INVALID_TOKEN"],
      [`/api/voice/stt?token=${alice}`, { Origin: "http://evil.example" }, 403, "CROSS_ORIGIN"],
      ["/api/voice/tts", { Cookie: `octo_token=${alice}`, Origin: "null" }, 403, "CROSS_ORIGIN"],
      ["/api/voice/tts", { Authorization: `Bearer ${alice}`, Origin: "http://evil.example" }, 403, "CROSS_ORIGIN"],
      [`/api/voice/other?token=${alice}`, {}, 404, "NOT_FOUND"],
    ];
    for (const [path, headers, status, expected] of cases) {
      const answer = await upgradeAnswer(proxy.port, path, headers);
      expect([path, answer.status, code(answer.body), answer.closed]).toEqual([path, status, expected, true]);
    }
    expect(ears.connections.length + kokoro.connections.length).toBe(before);
  });

  test("an open voice connection closes when its login is logged out, and the token is refused after", async () => {
    const s = sessionStack();
    const { token } = await quickUser(s, "carol");
    const config = testConfig({ voice: { enabled: true, stt_url: ears.url, tts_url: kokoro.url } });
    const admission = admissionFor(s.auth, config);
    const local = await front(new VoiceProxy({ admission, voice: config.voice }));
    const stopWatch = startAccessWatch({ db: s.db, live: admission.live, sessions: s.sessions });
    try {
      const before = kokoro.connections.length;
      const ws = openSocket(`ws://127.0.0.1:${local.port}/api/voice/tts?token=${token}`);
      await ws.opened;
      ws.json({ command: "list_voices" });
      await ws.next(ofType("voices"));
      s.auth.logout((await s.auth.authenticate(token)).claims);
      expect(typeof (await ws.closed)).toBe("number");
      const again = await upgradeAnswer(local.port, `/api/voice/tts?token=${token}`);
      expect([again.status, code(again.body)]).toEqual([401, "INVALID_TOKEN"]);
      expect(kokoro.connections.length).toBe(before + 1);
    } finally {
      stopWatch();
      await local.close();
      await s.sessions.shutdown();
    }
  });

  test("the cookie works from the same origin and from allowed origins", async () => {
    for (const from of [origin(), "https://octo.example.com"]) {
      const ws = openSocket(`ws://127.0.0.1:${proxy.port}/api/voice/tts`, { cookie: `octo_token=${alice}`, origin: from });
      await ws.opened;
      ws.json({ command: "list_voices" });
      await ws.next(ofType("voices"));
      ws.ws.close();
    }
  });

  test("plain HTTP: 426 when allowed, the same refusals otherwise", async () => {
    const ok = await fetch(`${proxy.base}/api/voice/stt`, { headers: { authorization: `Bearer ${alice}` } });
    expect([ok.status, ((await ok.json()) as { code: string }).code]).toEqual([426, "UPGRADE_REQUIRED"]);
    const anonymous = await fetch(`${proxy.base}/api/voice/tts`);
    expect(anonymous.status).toBe(401);
  });

  test("voice disabled: 404 VOICE_DISABLED for upgrades and requests", async () => {
    const config = testConfig({ voice: { enabled: false, stt_url: ears.url, tts_url: kokoro.url } });
    const local = await front(new VoiceProxy({ admission: admissionFor(auth, config), voice: config.voice }));
    try {
      const answer = await upgradeAnswer(local.port, `/api/voice/stt?token=${alice}`);
      expect([answer.status, JSON.parse(answer.body), answer.closed]).toEqual([404, { error: "Voice mode is not enabled on this server", code: "VOICE_DISABLED" }, true]);
      const res = await fetch(`${local.base}/api/voice/tts`);
      expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([404, "VOICE_DISABLED"]);
    } finally {
      await local.close();
    }
  });

  describe("a voice server that is down or stuck", () => {
    let hung: TcpServer;
    const held: Socket[] = [];
    let closedPort: number;

    beforeAll(async () => {
      // Accepts connections and never answers: the handshake must time out.
      hung = createTcpServer((socket) => held.push(socket));
      await new Promise<void>((done) => hung.listen(0, "127.0.0.1", done));
      // A port nobody listens on.
      const probe = createTcpServer();
      await new Promise<void>((done) => probe.listen(0, "127.0.0.1", done));
      closedPort = (probe.address() as { port: number }).port;
      await new Promise((done) => probe.close(done));
    });

    afterAll(async () => {
      for (const socket of held) socket.destroy();
      await new Promise((done) => hung.close(done));
    });

    test("refused connection: 503 VOICE_UNAVAILABLE naming the service, socket closed", async () => {
      const config = testConfig({ voice: { enabled: true, stt_url: `ws://127.0.0.1:${closedPort}`, tts_url: `ws://127.0.0.1:${closedPort}/x` } });
      const local = await front(new VoiceProxy({ admission: admissionFor(auth, config), voice: config.voice }));
      try {
        const stt = await upgradeAnswer(local.port, `/api/voice/stt?token=${alice}`);
        expect([stt.status, JSON.parse(stt.body), stt.closed]).toEqual([503, { error: "The speech-to-text server is not answering", code: "VOICE_UNAVAILABLE" }, true]);
        const tts = await upgradeAnswer(local.port, `/api/voice/tts?token=${alice}`);
        expect([tts.status, code(tts.body)]).toEqual([503, "VOICE_UNAVAILABLE"]);
        expect(JSON.parse(tts.body).error).toContain("text-to-speech");
        // A browser sees a failed WebSocket, not a hang, and learns why from a plain GET.
        const ws = openSocket(`ws://127.0.0.1:${local.port}/api/voice/stt?token=${alice}`);
        await expect(ws.opened).rejects.toThrow();
        const why = await fetch(`${local.base}/api/voice/stt`, { headers: { authorization: `Bearer ${alice}` } });
        expect([why.status, await why.json()]).toEqual([503, { error: "The speech-to-text server is not answering", code: "VOICE_UNAVAILABLE" }]);
      } finally {
        await local.close();
      }
    });

    test("a server that accepts but never completes the handshake: 503 after the handshake timeout", async () => {
      const port = (hung.address() as { port: number }).port;
      const config = testConfig({ voice: { enabled: true, stt_url: `ws://127.0.0.1:${port}`, tts_url: kokoro.url } });
      const local = await front(new VoiceProxy({ admission: admissionFor(auth, config), voice: config.voice, timeouts: { handshakeMs: 300 } }));
      try {
        const answer = await upgradeAnswer(local.port, `/api/voice/stt?token=${alice}`);
        expect([answer.status, code(answer.body), answer.closed]).toEqual([503, "VOICE_UNAVAILABLE", true]);
        expect(held.length).toBeGreaterThan(0);
      } finally {
        await local.close();
      }
    });

    test("a voice server that goes away mid-conversation closes the browser's socket", async () => {
      const flaky = await startFakeEars();
      const config = testConfig({ voice: { enabled: true, stt_url: flaky.url, tts_url: kokoro.url } });
      const local = await front(new VoiceProxy({ admission: admissionFor(auth, config), voice: config.voice }));
      try {
        const ws = openSocket(`ws://127.0.0.1:${local.port}/api/voice/stt?token=${alice}`);
        await ws.opened;
        await flaky.stop();
        expect(typeof (await ws.closed)).toBe("number");
      } finally {
        await local.close();
      }
    });

    test("closing the proxy closes open voice connections (octo can stop while the voice servers run on)", async () => {
      const config = testConfig({ voice: { enabled: true, stt_url: ears.url, tts_url: kokoro.url } });
      const local = await front(new VoiceProxy({ admission: admissionFor(auth, config), voice: config.voice }));
      const ws = openSocket(`ws://127.0.0.1:${local.port}/api/voice/tts?token=${alice}`);
      await ws.opened;
      await local.close();
      expect(typeof (await ws.closed)).toBe("number");
    });
  });
});
