/**
 * How `octo clone` and `octo git-push` read their job when a runtime runs them in a sandbox of their own
 * (`Runtime.runIsolated`): one line of JSON, the credential included, on standard input, or, when
 * {@link JOB_FILE_VARIABLE} names a file, from that file (the Swarm runtime: a Swarm service has no standard
 * input, so the job is a Docker secret mounted into the task, server/runtime/swarm.ts). Lines up to the
 * first that is a job are read, not to end of file: a container engine's attach need not half-close, and
 * lines before it are skipped (Podman passes the body of dockerode's attach request, the attach options as
 * JSON without a newline, to the container's standard input first). Without a newline, what is there at end
 * of file is parsed.
 */
import { z } from "zod";

/**
 * The environment variable naming a file to read the job from instead of standard input (a path, never
 * the job itself: e.g. `/run/secrets/job`).
 */
export const JOB_FILE_VARIABLE = "OCTO_JOB_FILE";

/** Where the job is read from: the file {@link JOB_FILE_VARIABLE} names, else standard input. */
export function jobSource(env: NodeJS.ProcessEnv = process.env): AsyncIterable<Uint8Array> {
  const file = env[JOB_FILE_VARIABLE];
  return file ? Bun.file(file).stream() : Bun.stdin.stream();
}

/** A credential as it travels to a job (./credentials.ts `GitCredential`). */
export const CredentialJson = z.union([
  z.object({ kind: z.literal("ssh_key"), host: z.string().min(1), privateKey: z.string().min(1) }),
  z.object({ kind: z.literal("https_token").optional(), host: z.string().min(1), username: z.string(), password: z.string() }),
]);

/**
 * The first line of the job's input ({@link jobSource}) that `schema` accepts (reading at most `maxBytes`),
 * or null when none does before end of file. `input` replaces that source (tests).
 * @throws when the file {@link JOB_FILE_VARIABLE} names cannot be read.
 */
export async function readJobLine<S extends z.ZodTypeAny>(
  schema: S,
  maxBytes = 1024 * 1024,
  input: AsyncIterable<Uint8Array> = jobSource(),
): Promise<z.infer<S> | null> {
  let text = "";
  const decoder = new TextDecoder();
  const parse = (line: string): z.infer<S> | null => {
    if (!line.trim()) return null;
    try {
      return schema.safeParse(JSON.parse(line)).data ?? null;
    } catch {
      return null;
    }
  };
  for await (const chunk of input) {
    text += decoder.decode(chunk, { stream: true });
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n")) {
      const job = parse(text.slice(0, end));
      if (job) return job;
      text = text.slice(end + 1);
    }
    if (text.length > maxBytes) return null;
  }
  return parse(text);
}
