/** The frame rules and the credential parser, as pure functions. */
import { expect, test } from "bun:test";
import { authorized, credentialFrom } from "../../terminal/auth.ts";
import { CONTROL_PREFIX, encodeResize, isControlFrame, parseCells, parseControl } from "../../terminal/protocol.ts";

test("encodeResize round-trips through parseControl", () => {
  const frame = encodeResize(120, 40);
  expect(frame.startsWith("\x1b]octo;\n")).toBe(true);
  expect(isControlFrame(frame)).toBe(true);
  expect(parseControl(frame)).toEqual({ type: "resize", cols: 120, rows: 40 });
});

test("malformed, unknown or out-of-range control messages decode to null", () => {
  for (const body of ["", "{", "[]", "null", '{"type":"ping"}', '{"type":"resize","cols":0,"rows":5}',
    '{"type":"resize","cols":80.5,"rows":24}', '{"type":"resize","cols":1001,"rows":24}', '{"type":"resize","cols":"80","rows":24}']) {
    expect(parseControl(CONTROL_PREFIX + body)).toBeNull();
  }
});

test("what xterm.js sends for keys, replies and pastes is never a control frame", () => {
  const paste = (text: string) => text.replace(/\r?\n/g, "\r"); // xterm's prepareTextForTerminal
  const frames = ["\x1b]", "\n", "\x1b\n", "\x1b[A", "\x1b]11;rgb:ffff/ffff/ffff\x1b\\", paste(`${CONTROL_PREFIX}{}`),
    `\x1b[200~${paste(encodeResize(1, 1))}\x1b[201~`, "\x1b]octo;"];
  expect(frames.filter(isControlFrame)).toEqual([]);
});

test("parseCells accepts integers 1..1000, and decimal strings only when asked", () => {
  expect([1, 1000, "80", "0080"].map((v) => parseCells(v, true))).toEqual([1, 1000, 80, 80]);
  expect([0, 1001, -1, "1e2", "", " 80", "80x", null, 2.5].map((v) => parseCells(v, true))).toEqual(Array(9).fill(null));
  expect(parseCells("80")).toBeNull();
});

test("credentialFrom reads Basic passwords (user ignored, colons kept) and Bearer tokens", () => {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  expect(credentialFrom(`Basic ${b64("opencode:s3:cret")}`)).toBe("s3:cret");
  expect(credentialFrom(`basic ${b64(":x")}`)).toBe("x");
  expect(credentialFrom("Bearer tok")).toBe("tok");
  expect([null, "", "Basic", `Basic ${b64("nocolon")}`, "Digest abc", "Bearer a b"].map(credentialFrom)).toEqual(Array(6).fill(null));
});

test("authorized needs the exact token, unless none is configured", () => {
  expect(authorized("Bearer t", "t")).toBe(true);
  expect(authorized("Bearer t2", "t")).toBe(false);
  expect(authorized("Bearer ", "t")).toBe(false);
  expect(authorized(null, "t")).toBe(false);
  expect(authorized(null, undefined)).toBe(true);
  expect(authorized(null, "")).toBe(true);
});
