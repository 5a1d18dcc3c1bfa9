/**
 * Opening a voice WebSocket through octo (`/api/voice/stt` or `/api/voice/tts`; the HttpOnly cookie
 * authenticates it). Browsers hide why an upgrade was refused, so when the socket fails before it opens, a
 * plain `GET` of the same path asks octo, which answers the reason as `{ error, code }` (voice disabled,
 * signed out, voice server down); that sentence becomes the error.
 */
import { voiceSocketUrl } from "./protocol.ts";

const NAMES = { stt: "speech-to-text", tts: "text-to-speech" } as const;

/** Why `/api/voice/<service>` cannot be used right now, as a sentence. */
async function whyUnavailable(service: "stt" | "tts"): Promise<string> {
  try {
    const res = await fetch(`/api/voice/${service}`, { credentials: "same-origin", headers: { accept: "application/json" } });
    const body = (await res.json()) as { error?: unknown; code?: unknown };
    if (res.status !== 426 && typeof body.error === "string") return body.error;
  } catch {
    // octo itself is unreachable
  }
  return `Could not connect to the ${NAMES[service]} server.`;
}

/**
 * Opens the voice socket of `service` with binary frames as ArrayBuffers.
 * @throws Error with a sentence to show when it does not open.
 */
export function openVoiceSocket(service: "stt" | "tts"): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(voiceSocketUrl(service, window.location));
    ws.binaryType = "arraybuffer";
    let settled = false;
    const fail = () => {
      if (settled) return;
      settled = true;
      void whyUnavailable(service).then((message) => reject(new Error(message)));
    };
    ws.addEventListener("open", () => {
      if (settled) return;
      settled = true;
      resolve(ws);
    }, { once: true });
    ws.addEventListener("error", fail, { once: true });
    ws.addEventListener("close", fail, { once: true });
  });
}
