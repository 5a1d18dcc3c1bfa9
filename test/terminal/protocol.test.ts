/** The frame rules, as pure functions. */
import { expect, test } from "bun:test";
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
