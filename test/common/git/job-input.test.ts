import { describe, expect, test } from "bun:test";
import { CloneJob } from "../../../common/git/clone.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { JOB_FILE_VARIABLE, jobSource, readJobLine } from "../../../common/git/job-input.ts";
import { tempDir } from "../../support/tmp.ts";

async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

describe("readJobLine", () => {
  test("skips what comes before the job (Podman's attach options) and stops at the job's line, not at end of file", async () => {
    const job = { url: "git://example.org/a.git", credential: null };
    // A stream that never ends after the job: reading to end of file would hang.
    async function* open(): AsyncIterable<Uint8Array> {
      yield new TextEncoder().encode(`{"stream":true,"stdin":true}\n${JSON.stringify(job)}\n`);
      await new Promise(() => {});
    }
    expect(await readJobLine(CloneJob, 1024, open())).toEqual({ url: job.url, credential: null, knownHosts: "" });
  });

  test("a job without a newline is parsed at end of file, split across chunks", async () => {
    const text = JSON.stringify({ credential: { host: "h", username: "u", password: "p" }, knownHosts: "x" });
    expect(await readJobLine(CloneJob, 1024, chunks(text.slice(0, 7), text.slice(7)))).toEqual({
      credential: { host: "h", username: "u", password: "p" },
      knownHosts: "x",
    });
  });

  test("nothing, garbage, or more than the bound before a job: null", async () => {
    expect(await readJobLine(CloneJob, 1024, chunks(""))).toBeNull();
    expect(await readJobLine(CloneJob, 1024, chunks("not json\n{\"depth\":-1}\n"))).toBeNull();
    expect(await readJobLine(CloneJob, 16, chunks("x".repeat(64)))).toBeNull();
  });

  test("the job comes from the file OCTO_JOB_FILE names when set (a Swarm secret), else from standard input", async () => {
    const file = join(tempDir("job-file-"), "job");
    writeFileSync(file, `${JSON.stringify({ url: "https://example.com/a.git", depth: 1 })}\n`);
    expect(JOB_FILE_VARIABLE).toBe("OCTO_JOB_FILE");
    expect(await readJobLine(CloneJob, 1024, jobSource({ [JOB_FILE_VARIABLE]: file }))).toEqual({ url: "https://example.com/a.git", depth: 1, credential: null, knownHosts: "" });
    await expect(readJobLine(CloneJob, 1024, jobSource({ [JOB_FILE_VARIABLE]: `${file}.missing` }))).rejects.toThrow();
  });
});
