/**
 * A streaming `multipart/form-data` parser (RFC 7578 over RFC 2046 §5.1), so uploads go to disk chunk by
 * chunk instead of being buffered whole in memory (`Request.formData()` would hold a 500 MB upload in RAM).
 *
 * Memory use is bounded by one incoming chunk plus the delimiter length; part headers are limited to
 * {@link MAX_HEADER_BYTES}. Malformed bodies throw `OctoError(400, "BAD_MULTIPART")`.
 */
import { OctoError } from "../server/errors.ts";

/** Part header block size limit (bytes); browsers send a few hundred. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** What a part's headers say about it. */
export interface PartInfo {
  /** Form field name (`name=` of `Content-Disposition`), null if absent. */
  name: string | null;
  /** Client file name (`filename*=` or `filename=`), null for plain fields. Not sanitized. */
  filename: string | null;
  /** The part's `Content-Type`, null if absent. */
  contentType: string | null;
}

/** Receives one part's content; `end` is called once after its last byte. */
export interface PartSink {
  write(chunk: Uint8Array): Promise<void>;
  end(): Promise<void>;
}

const bad = (message: string) => new OctoError(400, "BAD_MULTIPART", message);

/**
 * The boundary from a `Content-Type: multipart/form-data; boundary=...` header.
 * @throws OctoError 415 `UNSUPPORTED_MEDIA_TYPE` for other types, 400 `BAD_MULTIPART` without a boundary.
 */
export function boundaryOf(contentType: string | null): string {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType.trim())) {
    throw new OctoError(415, "UNSUPPORTED_MEDIA_TYPE", "Expected a multipart/form-data body");
  }
  const boundary = parseParams(contentType).boundary;
  if (!boundary || boundary.length > 200) throw bad("The multipart boundary is missing or invalid");
  return boundary;
}

/**
 * Parses `body`, calling `onPart` at each part's headers; its sink (or null to skip the content) then
 * receives the part's bytes. Parts are processed strictly in order; `onPart` and sink calls are awaited,
 * which applies back-pressure to the upload.
 * @throws OctoError 400 `BAD_MULTIPART` for a missing opening delimiter, oversized headers or a body that
 *   ends before the closing delimiter; whatever `onPart` or a sink throws.
 */
export async function parseMultipart(
  body: AsyncIterable<Uint8Array>,
  boundary: string,
  onPart: (part: PartInfo) => Promise<PartSink | null>,
): Promise<void> {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // A leading CRLF makes the first delimiter look like every other one.
  let buffer: Buffer = Buffer.from("\r\n");
  let state: "preamble" | "after-delimiter" | "headers" | "body" | "done" = "preamble";
  let sink: PartSink | null = null;

  for await (const chunk of body) {
    if (state === "done") continue; // epilogue: ignored
    buffer = buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([buffer, chunk]);
    while (state !== "done") {
      if (state === "preamble" || state === "body") {
        const at = buffer.indexOf(delimiter);
        const keep = at >= 0 ? at : Math.max(0, buffer.length - delimiter.length + 1);
        if (state === "body" && keep > 0) await sink?.write(buffer.subarray(0, keep));
        if (at < 0) {
          buffer = buffer.subarray(keep);
          break;
        }
        if (state === "body") await sink?.end();
        sink = null;
        buffer = buffer.subarray(at + delimiter.length);
        state = "after-delimiter";
      } else if (state === "after-delimiter") {
        if (buffer.length < 2) break;
        const marker = buffer.subarray(0, 2).toString("latin1");
        if (marker === "--") state = "done";
        else if (marker === "\r\n") state = "headers";
        else throw bad("Malformed multipart delimiter");
        buffer = buffer.subarray(2);
      } else {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) {
          if (buffer.length > MAX_HEADER_BYTES) throw bad("Multipart part headers are too large");
          break;
        }
        const info = parsePartHeaders(buffer.subarray(0, end).toString("utf8"));
        buffer = buffer.subarray(end + 4);
        sink = await onPart(info);
        state = "body";
      }
    }
  }
  if (state !== "done") throw bad("The multipart body ended before its closing delimiter");
}

/** Parses a part's header block (CRLF-separated `Name: value` lines). */
export function parsePartHeaders(block: string): PartInfo {
  const info: PartInfo = { name: null, filename: null, contentType: null };
  for (const line of block.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === "content-type") info.contentType = value;
    if (key !== "content-disposition") continue;
    const params = parseParams(value);
    info.name = params.name ?? null;
    info.filename = params["filename*"] !== undefined ? decodeExtValue(params["filename*"]) : (params.filename ?? null);
  }
  return info;
}

/** `key=value` / `key="quoted \"value\""` parameters after the first `;` of a header value. */
function parseParams(value: string): Record<string, string> {
  const params: Record<string, string> = {};
  const re = /;\s*([^=\s;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const raw = (m[2] as string).trim();
    const unquoted = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
    params[(m[1] as string).toLowerCase()] = unquoted;
  }
  return params;
}

/** RFC 5987 `charset'lang'percent-encoded` value; invalid encodings fall back to the raw text. */
function decodeExtValue(value: string): string {
  const match = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (!match) return value;
  try {
    return decodeURIComponent(match[2] as string);
  } catch {
    return value;
  }
}
