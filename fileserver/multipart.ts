/**
 * `multipart/form-data` uploads (RFC 7578), parsed by `busboy` and streamed part by part, so uploads go to
 * disk chunk by chunk instead of being buffered whole (`Request.formData()` would hold a 500 MB upload in
 * RAM). busboy is loaded on the first upload, so a file server that never receives one does not pay for it.
 *
 * Parts are handed over strictly in order and every sink call is awaited; until a part's bytes are taken,
 * busboy holds back the body (it delays its write callback), and the body is read only as fast as busboy
 * takes it. Memory is bounded by a chunk or two of the body plus busboy's stream buffers, whatever the
 * upload's size. The body is written into busboy here rather than piped, so every failure keeps its origin:
 * busboy's own parse errors become 400 `BAD_MULTIPART`, while what the body source or a sink throws (413,
 * an aborted request, a refused filename, ENOSPC) comes out unchanged.
 */
import type { Readable } from "node:stream";
import { OctoError } from "../common/errors.ts";

/** A file part, as its headers describe it. */
export interface FilePart {
  /** Form field name (`name=` of `Content-Disposition`), `""` if absent. */
  field: string;
  /** Client file name (`filename*=` or `filename=`, decoded as UTF-8), exactly as sent: not sanitized. */
  filename: string;
  /** The part's `Content-Type` (busboy's default `text/plain` when absent). */
  mimeType: string;
}

/** Receives one file part's content; `end` is called once after its last byte. */
export interface PartSink {
  write(chunk: Uint8Array): Promise<void>;
  end(): Promise<void>;
}

const malformed = (err: unknown) =>
  new OctoError(400, "BAD_MULTIPART", `Malformed multipart body: ${(err as Error | null)?.message ?? "parse error"}`);

/**
 * Checks that `contentType` announces `multipart/form-data` (other types, including busboy's other format
 * `application/x-www-form-urlencoded`, are refused before any byte is read).
 * @returns the header value, for {@link readMultipart}.
 * @throws OctoError 415 `UNSUPPORTED_MEDIA_TYPE`.
 */
export function multipartType(contentType: string | null): string {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType.trim())) {
    throw new OctoError(415, "UNSUPPORTED_MEDIA_TYPE", "Expected a multipart/form-data body");
  }
  return contentType;
}

/**
 * Reads a whole multipart body, calling `onFile` at each file part's headers; the returned sink (or null to
 * skip the content) then receives that part's bytes. Parts without a filename (plain fields, or an empty
 * file input, `filename=""`) are skipped without calling `onFile`. Resolves once the closing delimiter was
 * read and every sink has ended.
 * @param body the request body's chunks (e.g. `request.body`, possibly wrapped to count bytes).
 * @param contentType the request's `Content-Type` (see {@link multipartType}), with the boundary.
 * @throws OctoError 400 `BAD_MULTIPART` for a missing boundary, malformed part headers (over busboy's
 *   16 KiB header limit included) or a body that ends before its closing delimiter; otherwise the first
 *   error thrown by `body`, `onFile` or a sink. On any error the rest of the body is not read.
 */
export async function readMultipart(
  body: AsyncIterable<Uint8Array>,
  contentType: string,
  onFile: (part: FilePart) => Promise<PartSink | null>,
): Promise<void> {
  const { default: busboy } = await import("busboy");
  let parser: ReturnType<typeof busboy>;
  try {
    // preservePath: busboy would otherwise cut "../x" down to "x"; the caller must see (and refuse) it.
    parser = busboy({ headers: { "content-type": contentType }, preservePath: true, defParamCharset: "utf8" });
  } catch (err) {
    throw malformed(err);
  }
  let failure: { error: unknown } | null = null;
  const fail = (error: unknown) => {
    if (failure) return;
    failure = { error };
    parser.destroy();
  };
  const closed = new Promise<void>((resolve) => parser.once("close", resolve));
  parser.on("error", (err) => fail(malformed(err)));

  let parts = Promise.resolve();
  parser.on("file", (field, stream, info) => {
    // Its error (busboy destroying it) is read through the iterator in receive(); until then, or when the
    // part is skipped, an unlistened 'error' event would crash the process.
    stream.on("error", () => undefined);
    parts = parts
      .then(async () => {
        const sink = failure === null && info.filename ? await onFile({ field, filename: info.filename, mimeType: info.mimeType }) : null;
        await (sink ? receive(stream, sink) : stream.resume());
      })
      .catch((err) => {
        stream.resume();
        fail(err);
      });
  });

  try {
    for await (const chunk of body) {
      if (failure) break;
      if (!parser.write(chunk)) await Promise.race([new Promise((resolve) => parser.once("drain", resolve)), closed]);
    }
    if (!failure) parser.end();
  } catch (err) {
    fail(err);
  }
  await closed;
  await parts;
  if (failure) throw (failure as { error: unknown }).error;
}

/** Copies one part's stream into its sink; failures of the stream itself are busboy's (400). */
async function receive(stream: Readable, sink: PartSink): Promise<void> {
  const chunks = stream[Symbol.asyncIterator]();
  for (;;) {
    const next = await chunks.next().catch((err) => {
      throw malformed(err);
    });
    if (next.done) break;
    await sink.write(next.value as Uint8Array);
  }
  await sink.end();
}
