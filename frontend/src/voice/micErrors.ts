/**
 * What to tell a person whose microphone could not be opened. `getUserMedia` fails with a `DOMException`
 * whose `name` says why (https://w3c.github.io/mediacapture-main/#dom-mediadevices-getusermedia); each
 * answer says what happened and what to do about it.
 */

/** Reasons the microphone is unavailable. */
export type MicProblem = "denied" | "missing" | "busy" | "insecure" | "unsupported" | "unknown";

/** The sentence shown for each problem. */
export const MIC_MESSAGES: Record<MicProblem, string> = {
  denied:
    "Microphone access is blocked for this site. Allow it in your browser's site settings (the icon left of the address) and try again.",
  missing: "No microphone was found. Connect one (or pick it in your system's sound settings) and try again.",
  busy: "The microphone could not be started: another application may be using it. Close that application and try again.",
  insecure:
    "The browser only offers the microphone to secure pages. Open octo over HTTPS (or on localhost) to use voice.",
  unsupported: "This browser cannot record audio from a web page. Try a current Chrome, Edge, Firefox or Safari.",
  unknown: "The microphone could not be started.",
};

/** An error carrying a {@link MicProblem} and its message. */
export class MicError extends Error {
  constructor(
    readonly problem: MicProblem,
    detail?: string,
  ) {
    super(problem === "unknown" && detail ? `${MIC_MESSAGES.unknown} (${detail})` : MIC_MESSAGES[problem]);
    this.name = "MicError";
  }
}

/**
 * Classifies what `getUserMedia` threw (or that it is missing).
 * @param error the rejection reason.
 * @param secure `window.isSecureContext`.
 */
export function micProblem(error: unknown, secure: boolean): MicProblem {
  const name = (error as { name?: unknown })?.name;
  switch (name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
      return secure ? "denied" : "insecure";
    case "SecurityError":
      return secure ? "denied" : "insecure";
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return "missing";
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return "busy";
    case "NotSupportedError":
      return "unsupported";
    default:
      return "unknown";
  }
}

/** Turns what `getUserMedia` threw into a {@link MicError} with an explanation. */
export function toMicError(error: unknown, secure: boolean): MicError {
  if (error instanceof MicError) return error;
  return new MicError(micProblem(error, secure), error instanceof Error ? error.message : undefined);
}
