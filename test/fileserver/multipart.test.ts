/**
 * Unit tests of the multipart adapter over busboy (fileserver/multipart.ts): every chunking of a body gives
 * the same file parts, filenames arrive unsanitized, malformed bodies are 400 BAD_MULTIPART, errors of the
 * body or a sink come out unchanged, and a slow sink holds back the reading of the body.
 */
import { describe, expect, test } from "bun:test";
import { OctoError } from "../../common/errors.ts";
import { type FilePart, multipartType, readMultipart } from "../../fileserver/multipart.ts";

const BOUNDARY = "XyZ-boundary";
const TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

async function* chunksOf(body: Buffer, size: number) {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}

/** Feeds `body` in chunks of `size` bytes and collects every file part's info and content. */
async function parse(body: Buffer, size: number, type = TYPE) {
  const parts: { info: FilePart; data: string; ended: boolean }[] = [];
  await readMultipart(chunksOf(body, size), type, async (info) => {
    const part = { info, data: "", ended: false };
    parts.push(part);
    return {
      write: async (chunk) => {
        part.data += Buffer.from(chunk).toString("latin1");
      },
      end: async () => {
        part.ended = true;
      },
    };
  });
  return parts;
}

/** The error `promise` rejects with, as `[status, code]`. */
async function failure(promise: Promise<unknown>): Promise<[number, string]> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(OctoError);
  return [(err as OctoError).status, (err as OctoError).code];
}

const part = (disposition: string, content: string, extra = "") =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; ${disposition}\r\n${extra}\r\n${content}\r\n`;

const tricky = `line1\r\n--XyZ-bound\r\n-- not a delimiter\r\n--XyZ-boundar`;
const BODY = Buffer.from(
  "preamble to ignore\r\n" +
    part('name="note"', "plain field") +
    part('name="file"; filename="a.txt"', tricky, "Content-Type: text/plain\r\n") +
    part('name="file"; filename="empty.bin"', "") +
    part('name="file"; filename=""', "an empty file input") +
    `--${BOUNDARY}--\r\nepilogue to ignore`,
  "latin1",
);

describe("readMultipart", () => {
  test("the same file parts for every chunk size; fields and empty filenames are skipped", async () => {
    for (let size = 1; size <= BODY.length; size += size < 40 ? 1 : 13) {
      const parts = await parse(BODY, size);
      expect(parts.map((p) => [p.info.field, p.info.filename, p.data, p.ended])).toEqual([
        ["file", "a.txt", tricky, true],
        ["file", "empty.bin", "", true],
      ]);
      expect(parts[0]?.info.mimeType).toBe("text/plain");
    }
  });

  test("binary content survives", async () => {
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31) % 256));
    const body = Buffer.concat([
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="b"\r\n\r\n`),
      bytes,
      Buffer.from(`\r\n--${BOUNDARY}--`),
    ]);
    for (const size of [1000, 7, 4096, 65_536, 200_000]) {
      const [p] = await parse(body, size);
      expect(Buffer.from(p?.data ?? "", "latin1").equals(bytes)).toBe(true);
    }
  });

  test("filenames arrive as sent: UTF-8, RFC 5987 filename*, quoted escapes, paths kept for the caller to refuse", async () => {
    const body = Buffer.from(
      part('name="f"; filename="na\u00efve \u65e5\u672c.txt"', "1") +
        part(`name="f"; filename="fallback"; filename*=UTF-8''%E2%82%AC%20rates.txt`, "2") +
        part('name="f"; filename="x \\"q\\".txt"', "3") +
        part('name="f"; filename="../up.txt"', "4") +
        part('name="f"; filename="a\\\\b.txt"', "5") +
        `--${BOUNDARY}--`,
      "utf8",
    );
    const parts = await parse(body, 10);
    expect(parts.map((p) => p.info.filename)).toEqual(["na\u00efve \u65e5\u672c.txt", "\u20ac rates.txt", 'x "q".txt', "../up.txt", "a\\b.txt"]);
  });

  test("a null sink skips the part's content", async () => {
    const seen: string[] = [];
    async function* one() {
      yield BODY;
    }
    await readMultipart(one(), TYPE, async (info) => {
      seen.push(info.filename);
      return null;
    });
    expect(seen).toEqual(["a.txt", "empty.bin"]);
  });

  test("malformed bodies are 400 BAD_MULTIPART", async () => {
    const cases = [
      "no delimiter at all",
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n\r\nunterminated`,
      `--${BOUNDARY}\r\nX-Big: ${"h".repeat(20_000)}\r\n\r\n`,
    ];
    for (const text of cases) expect(await failure(parse(Buffer.from(text), 1000))).toEqual([400, "BAD_MULTIPART"]);
    expect(await failure(parse(BODY, 100, "multipart/form-data"))).toEqual([400, "BAD_MULTIPART"]);
  });

  test("what the body or a sink throws comes out unchanged, and the rest of the body is not read", async () => {
    const big = Buffer.concat([Buffer.from(part('name="f"; filename="a"', "x".repeat(200_000))), Buffer.from(`--${BOUNDARY}--`)]);
    let pulled = 0;
    async function* counting() {
      for await (const chunk of chunksOf(big, 1000)) {
        pulled++;
        yield chunk;
      }
    }
    const refused = readMultipart(counting(), TYPE, async () => {
      throw new OctoError(400, "INVALID_FILENAME", "no");
    });
    expect(await failure(refused)).toEqual([400, "INVALID_FILENAME"]);
    expect(pulled).toBeLessThan(100);

    pulled = 0;
    const full = readMultipart(counting(), TYPE, async () => ({
      write: async () => {
        if (pulled > 20) throw Object.assign(new Error("disk full"), { code: "ENOSPC" });
      },
      end: async () => undefined,
    }));
    const err = await full.then(() => null, (e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe("ENOSPC");
    expect(pulled).toBeLessThan(100);

    async function* tooLarge() {
      yield big.subarray(0, 5000);
      throw new OctoError(413, "TOO_LARGE", "over");
    }
    expect(await failure(readMultipart(tooLarge(), TYPE, async () => ({ write: async () => undefined, end: async () => undefined })))).toEqual([413, "TOO_LARGE"]);
  });

  test("a slow sink holds back the reading of the body (nothing is buffered ahead)", async () => {
    const chunk = Buffer.alloc(16 * 1024, 120);
    const chunks = 200;
    let pulled = 0;
    let received = 0;
    let lead = 0; // most body bytes ever read ahead of what the sink had taken
    async function* body() {
      yield Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="slow"\r\n\r\n`);
      for (let i = 0; i < chunks; i++) {
        pulled++;
        lead = Math.max(lead, pulled * chunk.length - received);
        yield chunk;
      }
      yield Buffer.from(`\r\n--${BOUNDARY}--`);
    }
    // The sink gives the event loop several full turns per write: a reader that did not wait for it
    // would pull the whole body meanwhile.
    const turns = () => new Promise((resolve) => setImmediate(resolve));
    await readMultipart(body(), TYPE, async () => ({
      write: async (data) => {
        for (let i = 0; i < 5; i++) await turns();
        received += data.byteLength;
      },
      end: async () => undefined,
    }));
    expect([pulled, received]).toEqual([chunks, chunks * chunk.length]);
    expect(lead).toBeLessThan(16 * chunk.length);
  });
});

test("multipartType accepts multipart/form-data only (415 otherwise)", async () => {
  expect(multipartType('Multipart/Form-Data; charset=utf-8; boundary="a b:c"')).toStartWith("Multipart/Form-Data");
  for (const type of ["text/plain", null, "multipart/mixed; boundary=x", "application/x-www-form-urlencoded", "multipart/form-dataX"]) {
    let status = 0;
    try {
      multipartType(type);
    } catch (err) {
      status = (err as OctoError).status;
    }
    expect([type, status]).toEqual([type, 415]);
  }
});
