/** Small pure modules of the web app: shortcuts, formatting, routing, terminal close handling, files. */
import { describe, expect, test } from "bun:test";
import { isImage, languageFor, looksBinary } from "../../../frontend/src/files/fileKinds.ts";
import { joinPath, parentDir } from "../../../frontend/src/files/filesApi.ts";
import { formatBytes, formatDuration, timeAgo } from "../../../frontend/src/lib/format.ts";
import { matchPath } from "../../../frontend/src/lib/router.ts";
import { isAbortKey, isSendKey } from "../../../frontend/src/lib/shortcuts.ts";
import { stateAfterClose, terminalUrl } from "../../../frontend/src/terminal/termConnection.ts";

describe("keyboard shortcuts", () => {
  test("Enter sends, Shift+Enter does not, Ctrl/Cmd+Enter sends, IME composition never sends", () => {
    expect(isSendKey({ key: "Enter" })).toBe(true);
    expect(isSendKey({ key: "Enter", shiftKey: true })).toBe(false);
    expect(isSendKey({ key: "Enter", ctrlKey: true, shiftKey: true })).toBe(true);
    expect(isSendKey({ key: "Enter", metaKey: true })).toBe(true);
    expect(isSendKey({ key: "Enter", isComposing: true })).toBe(false);
    expect(isSendKey({ key: "a" })).toBe(false);
  });
  test("Escape aborts in the composer; Ctrl+. anywhere", () => {
    expect(isAbortKey({ key: "Escape" }, true)).toBe(true);
    expect(isAbortKey({ key: "Escape" }, false)).toBe(false);
    expect(isAbortKey({ key: ".", ctrlKey: true }, false)).toBe(true);
    expect(isAbortKey({ key: ".", metaKey: true }, false)).toBe(true);
    expect(isAbortKey({ key: "." }, true)).toBe(false);
  });
});

describe("format", () => {
  test("timeAgo, bytes, durations", () => {
    const now = Date.parse("2026-01-10T12:00:00Z");
    expect(timeAgo("2026-01-10T11:59:50Z", now)).toBe("just now");
    expect(timeAgo("2026-01-10T11:55:00Z", now)).toBe("5 min ago");
    expect(timeAgo("2026-01-10T09:00:00Z", now)).toBe("3 h ago");
    expect(timeAgo("2026-01-08T12:00:00Z", now)).toBe("2 d ago");
    expect(timeAgo("nonsense", now)).toBe("");
    expect([formatBytes(0), formatBytes(1536), formatBytes(12 * 1024 * 1024)]).toEqual(["0 B", "1.5 KB", "12 MB"]);
    expect([formatDuration(800), formatDuration(12_000), formatDuration(125_000)]).toEqual(["0.8 s", "12 s", "2 min 5 s"]);
  });
});

describe("router", () => {
  test("matchPath with params, query and trailing slash", () => {
    expect(matchPath("/sessions/:id", "/sessions/abc%20d?c=1")).toEqual({ id: "abc d" });
    expect(matchPath("/sessions/:id", "/sessions/abc/")).toEqual({ id: "abc" });
    expect(matchPath("/admin", "/admin")).toEqual({});
    expect(matchPath("/", "/")).toEqual({});
    expect(matchPath("/sessions/:id", "/sessions")).toBeNull();
    expect(matchPath("/admin", "/administrator")).toBeNull();
  });
});

describe("terminal connection (docs/terminal-protocol.md close codes)", () => {
  test("1000 = the shell exited: no automatic reconnect", () => {
    expect(stateAfterClose(1000, "shell exited (code 0)", 500)).toEqual({ kind: "exited", reason: "shell exited (code 0)" });
  });
  test("drops, server stops and errors reconnect after the backoff delay", () => {
    expect(stateAfterClose(1006, "", 700)).toEqual({ kind: "reconnecting", retryInMs: 700, reason: "connection lost" });
    expect(stateAfterClose(1001, "terminal server stopping", 300)).toMatchObject({ kind: "reconnecting", reason: "terminal server stopping" });
    expect(stateAfterClose(1011, "", 300)).toMatchObject({ kind: "reconnecting", reason: "closed (1011)" });
  });
  test("URL: same origin, ws or wss, initial size", () => {
    expect(terminalUrl({ protocol: "http:", host: "127.0.0.1:8080" }, "s 1", 100, 30)).toBe("ws://127.0.0.1:8080/session/s%201/term?cols=100&rows=30");
    expect(terminalUrl({ protocol: "https:", host: "octo.example" }, "s", 80, 24)).toStartWith("wss://octo.example/");
  });
});

describe("files helpers", () => {
  test("paths", () => {
    expect(parentDir("a/b/c.txt")).toBe("a/b");
    expect(parentDir("c.txt")).toBe("");
    expect(joinPath("", "x")).toBe("x");
    expect(joinPath("a", "x")).toBe("a/x");
  });
  test("kinds and languages", () => {
    expect(isImage("a/logo.PNG")).toBe(true);
    expect(isImage("a.ts")).toBe(false);
    expect(languageFor("src/app.tsx")).toBe("typescript");
    expect(languageFor("Dockerfile")).toBe("dockerfile");
    expect(languageFor("go.mod")).toBe("mod");
    expect(languageFor("README")).toBeNull();
    expect(looksBinary(new Uint8Array([104, 105, 0, 1]))).toBe(true);
    expect(looksBinary(new TextEncoder().encode("héllo\n"))).toBe(false);
  });
});
