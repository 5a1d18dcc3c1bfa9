/**
 * The parts of every loaded message, by message id, as an immutable value that a one-message update copies
 * only a small piece of. A plain record of every message would be copied whole by each streamed delta: with
 * a 2 000-message conversation that copy alone took 1-4 ms per delta in Chromium (V8 spreads a record
 * of that many keys slowly), more than a frame's budget on a busy machine. Here ids are spread over
 * {@link BUCKETS} small records by a hash of the id; an update copies the bucket array and one bucket.
 */
import type { Part } from "./types.ts";

/** Number of buckets: a 2 000-message conversation puts about 31 messages in each. */
export const BUCKETS = 64;

/** See the module doc. Never mutate; use {@link partsOf}, {@link withParts}, {@link withoutParts}. */
export type PartIndex = readonly Readonly<Record<string, Part[]>>[];

/** FNV-1a of `id`, modulo {@link BUCKETS}. */
function bucketOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % BUCKETS;
}

/** An index holding no message. */
export function emptyPartIndex(): PartIndex {
  return Array.from({ length: BUCKETS }, () => ({}));
}

/** The parts of message `messageID`, or undefined when it has none recorded. */
export function partsOf(index: PartIndex, messageID: string): Part[] | undefined {
  return index[bucketOf(messageID)]![messageID];
}

/**
 * A copy of `index` with `remove` taken out, then `set` (message id -> parts) put in. The same object
 * when nothing changes.
 */
export function withParts(index: PartIndex, set: Iterable<[string, Part[]]>, remove: Iterable<string> = []): PartIndex {
  let next: Record<string, Part[]>[] | null = null;
  const copied = new Set<number>();
  const bucket = (i: number) => {
    next ??= [...index] as Record<string, Part[]>[];
    if (!copied.has(i)) {
      next[i] = { ...next[i] };
      copied.add(i);
    }
    return next[i]!;
  };
  for (const id of remove) {
    const i = bucketOf(id);
    if (id in index[i]!) delete bucket(i)[id];
  }
  for (const [id, parts] of set) bucket(bucketOf(id))[id] = parts;
  return next ?? index;
}

/** A copy of `index` without the messages `ids` (the same object when none was there). */
export function withoutParts(index: PartIndex, ids: Iterable<string>): PartIndex {
  return withParts(index, [], ids);
}
