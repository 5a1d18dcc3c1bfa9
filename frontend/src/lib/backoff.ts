/**
 * Exponential backoff with full jitter for reconnecting streams and sockets
 * (AWS Architecture Blog, "Exponential Backoff And Jitter": delay = random(0, min(cap, base * 2^attempt))).
 * A floor keeps the first retries from hammering a server that just went away.
 */

/** Tuning for {@link Backoff}; all times in milliseconds. */
export interface BackoffOptions {
  /** First ceiling (attempt 0); default 500 ms. */
  baseMs?: number;
  /** Largest ceiling; default 15 000 ms. */
  maxMs?: number;
  /** Smallest delay ever returned; default 250 ms. */
  minMs?: number;
  /** Source of randomness in [0, 1); injectable for tests. Default `Math.random`. */
  random?: () => number;
}

/** Counts failed attempts and answers how long to wait before the next one. */
export class Backoff {
  private attempt = 0;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly minMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 500;
    this.maxMs = options.maxMs ?? 15_000;
    this.minMs = options.minMs ?? 250;
    this.random = options.random ?? Math.random;
  }

  /** How many delays were handed out since the last {@link reset}. */
  get attempts(): number {
    return this.attempt;
  }

  /** The next delay in ms (in `[minMs, min(maxMs, baseMs * 2^attempt)]`); counts one more attempt. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt++;
    return Math.max(this.minMs, Math.round(this.random() * ceiling));
  }

  /** Call after a connection has proven healthy; the next failure starts from the base again. */
  reset(): void {
    this.attempt = 0;
  }
}
