/** Tool-card logic: header summaries and the diff rows shown for edits and writes. */
import { describe, expect, test } from "bun:test";
import { diffStats, rowsFromPatch, rowsFromTexts } from "../../../../frontend/src/chat/diffRows.ts";
import { fileChangeRows } from "../../../../frontend/src/chat/tools/FileChangeBody.tsx";
import { relativePath, summarizeTool } from "../../../../frontend/src/chat/tools/toolInfo.ts";
import { answerLabels } from "../../../../frontend/src/chat/QuestionPrompt.tsx";
import type { ToolPart } from "../../../../frontend/src/chat/types.ts";

function tool(name: string, input: Record<string, unknown>, metadata: Record<string, unknown> = {}): ToolPart {
  return {
    id: "prt_1",
    sessionID: "ses_1",
    messageID: "msg_1",
    type: "tool",
    callID: "call_1",
    tool: name,
    state: { status: "completed", input, output: "", title: "", metadata, time: { start: 1, end: 2 } },
  };
}

describe("summarizeTool", () => {
  test("bash shows its command; file tools their workspace-relative path", () => {
    expect(summarizeTool(tool("bash", { command: "ls -la" }))).toMatchObject({ label: "Bash", subject: "ls -la", open: true });
    expect(summarizeTool(tool("write", { filePath: "/w/src/a.ts", content: "" }), "/w")).toMatchObject({ label: "Write", subject: "src/a.ts" });
    expect(summarizeTool(tool("read", { filePath: "/etc/hosts" }), "/w")).toMatchObject({ label: "Read", subject: "/etc/hosts", open: false });
    expect(summarizeTool(tool("mcp_thing", {}))).toMatchObject({ label: "mcp_thing", icon: "tool" });
    expect(summarizeTool(tool("question", { questions: [{ header: "Language" }, { header: "Style" }] }))).toMatchObject({ label: "Question", subject: "Language, Style" });
    expect(relativePath("/w/x", "/w")).toBe("x");
    expect(relativePath("/wx/y", "/w")).toBe("/wx/y");
    expect(relativePath("/w/x", "/w/")).toBe("x");
  });
});

describe("diff rows", () => {
  test("from texts: line numbers and counts", () => {
    const rows = rowsFromTexts("a\nb\nc\n", "a\nB\nc\nd\n");
    expect(rows[0]).toEqual({ kind: "hunk", header: "@@ -1,3 +1,4 @@" });
    expect(rows.slice(1)).toEqual([
      { kind: "ctx", text: "a", oldLine: 1, newLine: 1 },
      { kind: "del", text: "b", oldLine: 2, newLine: null },
      { kind: "add", text: "B", oldLine: null, newLine: 2 },
      { kind: "ctx", text: "c", oldLine: 3, newLine: 3 },
      { kind: "add", text: "d", oldLine: null, newLine: 4 },
    ]);
    expect(diffStats(rows)).toEqual({ additions: 2, deletions: 1 });
  });
  test("from a unified patch as OpenCode's edit tool reports it; garbage gives no rows", () => {
    const patch = "Index: /w/a.txt\n===================================================================\n--- /w/a.txt\n+++ /w/a.txt\n@@ -1,2 +1,2 @@\n-hello\n+hi\n world\n";
    expect(diffStats(rowsFromPatch(patch))).toEqual({ additions: 1, deletions: 1 });
    expect(rowsFromPatch("not a patch")).toEqual([]);
  });
  test("fileChangeRows: edit metadata diff first, then old/new strings; write is all additions", () => {
    const patch = "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n";
    expect(diffStats(fileChangeRows(tool("edit", { filePath: "/w/a", oldString: "q", newString: "r\ns" }, { diff: patch })))).toEqual({ additions: 1, deletions: 1 });
    expect(diffStats(fileChangeRows(tool("edit", { filePath: "/w/a", oldString: "q", newString: "r\ns" })))).toEqual({ additions: 2, deletions: 1 });
    expect(diffStats(fileChangeRows(tool("write", { filePath: "/w/a", content: "1\n2\n3\n" })))).toEqual({ additions: 3, deletions: 0 });
    expect(diffStats(fileChangeRows(tool("write", { filePath: "/w/a", content: "1\n2\n" }, { filediff: { before: "1\n", after: "1\n2\n" } })))).toEqual({ additions: 1, deletions: 0 });
  });
});

describe("question answers", () => {
  test("chosen options then the typed answer; blank typing is ignored", () => {
    expect(answerLabels({ chosen: ["A"], custom: "" })).toEqual(["A"]);
    expect(answerLabels({ chosen: ["A", "B"], custom: "  also C " })).toEqual(["A", "B", "also C"]);
    expect(answerLabels({ chosen: [], custom: "   " })).toEqual([]);
  });
});
