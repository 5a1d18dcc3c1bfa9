/** The hop-by-hop header rule (server/http/hop-by-hop.ts) the gateway and the shared event stream forward by. */
import { expect, test } from "bun:test";
import { HOP_BY_HOP, hopByHop } from "../../../server/http/hop-by-hop.ts";

test("the RFC 9110 §7.6.1 names, plus every field the Connection header lists, lower case", () => {
  expect([...HOP_BY_HOP].sort()).toEqual(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);
  expect(hopByHop(undefined)).toEqual(new Set(HOP_BY_HOP));
  expect(hopByHop(null)).toEqual(new Set(HOP_BY_HOP));
  const drop = hopByHop("close, X-Hop ,,x-other");
  expect([...drop].filter((name) => !HOP_BY_HOP.has(name)).sort()).toEqual(["close", "x-hop", "x-other"]);
  expect(hopByHop(["X-A", "x-b"]).has("x-a") && hopByHop(["X-A", "x-b"]).has("x-b")).toBe(true);
  expect(hopByHop(5).size).toBe(HOP_BY_HOP.size);
});
