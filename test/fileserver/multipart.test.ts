/**
 * Unit tests of the streaming multipart parser (fileserver/multipart.ts): every chunking of a body gives
 * the same parts, delimiter look-alikes inside content, header parsing, and malformed bodies.
 */
import { describe, expect, test } from "bun:test";
import { OctoError } from "../../server/errors.ts";
import { boundaryOf, type PartInfo, parseMultipart, parsePartHeaders } from "../../fileserver/multipart.ts";

const BOUNDARY = "XyZ-boundary";

/** Feeds `body` in chunks of `size` bytes and collects every part's info and content. */
async function parse(body: Buffer, size: number, boundary = BOUNDARY) {
  const parts: { info: PartInfo; data: string; ended: boolean }[] = [];
  async function* chunks() {
    for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
  }
  await parseMultipart(chunks(), boundary, async (info) => {
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

const tricky = `line1\r\n--XyZ-bound\r\n-- not a delimiter\r\n--XyZ-boundar`;
const BODY = Buffer.from(
  "preamble to ignore\r\n" +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\nplain field\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n${tricky}\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="empty.bin"\r\n\r\n\r\n` +
    `--${BOUNDARY}--\r\nepilogue to ignore`,
  "latin1",
);

describe("parseMultipart", () => {
  test("the same parts for every chunk size", async () => {
    for (let size = 1; size <= BODY.length; size++) {
      const parts = await parse(BODY, size);
      expect(parts.map((p) => [p.info.name, p.info.filename, p.data, p.ended])).toEqual([
        ["note", null, "plain field", true],
        ["file", "a.txt", tricky, true],
        ["file", "empty.bin", "", true],
      ]);
      expect(parts[1]?.info.contentType).toBe("text/plain");
    }
  });

  test("binary content survives", async () => {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) % 256));
    const body = Buffer.concat([
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="b"\r\n\r\n`),
      bytes,
      Buffer.from(`\r\n--${BOUNDARY}--`),
    ]);
    for (const size of [1, 7, 100, 4096, 10_000]) {
      const [part] = await parse(body, size);
      expect(Buffer.from(part?.data ?? "", "latin1").equals(bytes)).toBe(true);
    }
  });

  test("a null sink skips the part's content", async () => {
    const seen: string[] = [];
    async function* one() {
      yield BODY;
    }
    await parseMultipart(one(), BOUNDARY, async (info) => {
      seen.push(info.name ?? "");
      return null;
    });
    expect(seen).toEqual(["note", "file", "file"]);
  });

  test("malformed bodies are 400 BAD_MULTIPART", async () => {
    const cases = [
      "no delimiter at all",
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"\r\n\r\nunterminated`,
      `--${BOUNDARY}XX\r\n`,
      `--${BOUNDARY}\r\nX-Big: ${"h".repeat(20_000)}`,
    ];
    for (const text of cases) {
      let caught: unknown;
      try {
        await parse(Buffer.from(text), 1000);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(OctoError);
      expect([(caught as OctoError).status, (caught as OctoError).code]).toEqual([400, "BAD_MULTIPART"]);
    }
  });
});

describe("part headers", () => {
  test("name, quoted filename with escapes, RFC 5987 filename*", () => {
    expect(parsePartHeaders('Content-Disposition: form-data; name="a"; filename="x \\"q\\".txt"')).toEqual({
      name: "a",
      filename: 'x "q".txt',
      contentType: null,
    });
    const ext = parsePartHeaders(`content-disposition: form-data; name=f; filename="fallback"; filename*=UTF-8''na%C3%AFve.txt`);
    expect([ext.name, ext.filename]).toEqual(["f", "naïve.txt"]);
    expect(parsePartHeaders("Content-Type: image/png").filename).toBeNull();
  });

  test("boundaryOf reads plain and quoted boundaries and rejects other types", () => {
    expect(boundaryOf("multipart/form-data; boundary=abc")).toBe("abc");
    expect(boundaryOf('Multipart/Form-Data; charset=utf-8; boundary="a b:c"')).toBe("a b:c");
    for (const [type, status] of [
      ["text/plain", 415],
      [null, 415],
      ["multipart/mixed; boundary=x", 415],
      ["multipart/form-data", 400],
    ] as const) {
      let caught: OctoError | null = null;
      try {
        boundaryOf(type);
      } catch (err) {
        caught = err as OctoError;
      }
      expect([type, caught?.status]).toEqual([type, status]);
    }
  });
});
