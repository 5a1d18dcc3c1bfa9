/**
 * Password hashing with a bound on the work in flight. argon2id (`Bun.password`, run on Bun's worker
 * threads) costs about 100 ms of CPU and 64 MiB of memory per hash or verify on these machines, so a burst of
 * logins or registrations must not run them all at once: at most `concurrency` run, up to `queue` more wait
 * their turn (first come, first served), and any beyond that are refused at once with 429 `SERVER_BUSY` and
 * `Retry-After: 1`.
 */
import { OctoError } from "../../../common/errors.ts";

export interface PasswordWorkLimits {
  /** Hashes or verifications running at once (`[auth] max_concurrent_password_hashes`). */
  concurrency: number;
  /** Further ones waiting their turn (`[auth] max_queued_password_hashes`). */
  queue: number;
}

export class PasswordHasher {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limits: PasswordWorkLimits) {}

  /** An argon2id hash of `password`. @throws OctoError 429 SERVER_BUSY when the queue is full. */
  hash(password: string): Promise<string> {
    return this.run(() => Bun.password.hash(password, { algorithm: "argon2id" }));
  }

  /** Whether `password` matches `hash`. @throws OctoError 429 SERVER_BUSY when the queue is full. */
  verify(password: string, hash: string): Promise<boolean> {
    return this.run(() => Bun.password.verify(password, hash));
  }

  /** Hashes running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.concurrency) {
      if (this.waiting.length >= this.limits.queue) {
        throw new OctoError(429, "SERVER_BUSY", "The server is busy checking passwords; try again in a second", { "Retry-After": "1" });
      }
      await new Promise<void>((resume) => this.waiting.push(resume));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `running` never drops below the number in flight.
      if (next) next();
      else this.running--;
    }
  }
}
