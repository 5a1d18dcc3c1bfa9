/**
 * The Changes panel's push, tried a second time when its request got no answer at all (HttpError status 0,
 * lib/api.ts `call`): Chromium fails a request that is waiting for a connection with ERR_NETWORK_CHANGED
 * whenever an interface or address of the machine changes (a VPN, Wi-Fi, a container engine adding a
 * bridge or veth), so one click could be lost though the server was reachable all along. A push may be
 * sent twice: pushing the same HEAD to the same branch again changes nothing. When the first request did
 * reach octo and landed, the second answers 409 NOTHING_TO_PUSH: the branch is at HEAD, which is what the
 * click asked for, so that counts as done. Any other error, and a second request lost too, is thrown
 * (should the first still be running at octo, git refuses one of the two: PUSH_REJECTED, shown as such).
 */
import { HttpError } from "../lib/http.ts";

/** What `POST /api/sessions/:id/push` answers. */
export interface PushAnswer {
  branch: string;
  commit: string;
}

/** The outcome: pushed by this click, or found at HEAD after a lost first request (git's message). */
export type PushOutcome = ({ kind: "pushed" } & PushAnswer) | { kind: "up-to-date"; branch: string; message: string };

/** Pause before the second request, ms: long enough for a network change to settle. */
export const RETRY_DELAY_MS = 500;

const lost = (err: unknown) => err instanceof HttpError && err.status === 0;

/**
 * Runs `push` (one request to `branch`), once more after {@link RETRY_DELAY_MS} when it got no answer.
 * @throws the push's HttpError (NOTHING_TO_PUSH included when the first request answered it), or the
 *   second request's error other than NOTHING_TO_PUSH.
 */
export async function pushOnce(branch: string, push: () => Promise<PushAnswer>, wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Promise<PushOutcome> {
  try {
    return { kind: "pushed", ...(await push()) };
  } catch (err) {
    if (!lost(err)) throw err;
  }
  await wait(RETRY_DELAY_MS);
  try {
    return { kind: "pushed", ...(await push()) };
  } catch (err) {
    if (err instanceof HttpError && err.code === "NOTHING_TO_PUSH") return { kind: "up-to-date", branch, message: err.message };
    throw err;
  }
}
