/** Output of a short-lived command kept up to a bound (./types.ts `ISOLATED_OUTPUT_BYTES`). */
export class BoundedText {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  /** @param maxBytes most bytes kept; later ones are dropped. */
  constructor(private readonly maxBytes: number) {}

  /** Keeps what of `chunk` fits. */
  add(chunk: Buffer | Uint8Array | string): void {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    const room = this.maxBytes - this.size;
    if (room <= 0) return;
    this.chunks.push(bytes.length > room ? bytes.subarray(0, room) : bytes);
    this.size += Math.min(bytes.length, room);
  }

  /** What was kept, as UTF-8. */
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}
