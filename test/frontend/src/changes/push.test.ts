import { describe, expect, test } from "bun:test";
import { pushOnce, RETRY_DELAY_MS, type PushAnswer } from "../../../../frontend/src/changes/push.ts";
import { HttpError } from "../../../../frontend/src/lib/http.ts";

/** What lib/api.ts `call` throws when a request got no answer (Chromium's ERR_NETWORK_CHANGED among them). */
const lost = () => new HttpError(0, "NETWORK", "Cannot reach the server. Check your connection.");
const nothing = () => new HttpError(409, "NOTHING_TO_PUSH", "Nothing to push: octo/x is already at 0123456789ab (Everything up-to-date)");

/** A push that answers each call from `answers` in turn (an Error is thrown), counting calls and waits. */
function scripted(answers: (PushAnswer | Error)[]) {
  const calls: number[] = [];
  const waits: number[] = [];
  return {
    calls,
    waits,
    push: async () => {
      const answer = answers[calls.push(calls.length) - 1];
      if (answer === undefined) throw new Error("called too often");
      if (answer instanceof Error) throw answer;
      return answer;
    },
    wait: async (ms: number) => void waits.push(ms),
  };
}

describe("pushOnce", () => {
  const ok = { branch: "octo/x", commit: "0123456789abcdef" };

  test("an answered push is sent once", async () => {
    const s = scripted([ok]);
    expect(await pushOnce("octo/x", s.push, s.wait)).toEqual({ kind: "pushed", ...ok });
    expect([s.calls.length, s.waits]).toEqual([1, []]);
  });

  test("a request lost before it reached octo is sent again after a pause and pushes", async () => {
    const s = scripted([lost(), ok]);
    expect(await pushOnce("octo/x", s.push, s.wait)).toEqual({ kind: "pushed", ...ok });
    expect([s.calls.length, s.waits]).toEqual([2, [RETRY_DELAY_MS]]);
  });

  test("a lost request that did land: the second answers NOTHING_TO_PUSH, which counts as done", async () => {
    const s = scripted([lost(), nothing()]);
    expect(await pushOnce("octo/x", s.push, s.wait)).toEqual({ kind: "up-to-date", branch: "octo/x", message: nothing().message });
  });

  test("NOTHING_TO_PUSH answered to the first request, git's refusals and a second lost request are the user's to see", async () => {
    for (const [answers, code] of [
      [[nothing()], "NOTHING_TO_PUSH"],
      [[new HttpError(409, "PUSH_REJECTED", "! [rejected] (non-fast-forward)")], "PUSH_REJECTED"],
      [[lost(), new HttpError(409, "PUSH_REJECTED", "! [rejected]")], "PUSH_REJECTED"],
      [[lost(), lost()], "NETWORK"],
    ] as [Error[], string][]) {
      const s = scripted(answers);
      const err = await pushOnce("octo/x", s.push, s.wait).catch((e: HttpError) => e);
      expect([(err as HttpError).code, s.calls.length]).toEqual([code, answers.length]);
    }
  });
});
