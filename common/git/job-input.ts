/**
 * How `octo clone` and `octo git-push` read their job from standard input when a runtime runs them in a
 * sandbox of their own (`Runtime.runIsolated`): one line of JSON, the credential included. Lines up to the
 * first that is a job are read, not to end of file: a container engine's attach need not half-close, and
 * lines before it are skipped (Podman passes the body of dockerode's attach request, the attach options as
 * JSON without a newline, to the container's standard input first). Without a newline, what is there at end
 * of file is parsed (the session entrypoint's pipe, container/entrypoint.sh `clone_repository`).
 */
import { z } from "zod";

/** A credential as it travels to a job (./credentials.ts `GitCredential`). */
export const CredentialJson = z.union([
  z.object({ kind: z.literal("ssh_key"), host: z.string().min(1), privateKey: z.string().min(1) }),
  z.object({ kind: z.literal("https_token").optional(), host: z.string().min(1), username: z.string(), password: z.string() }),
]);

/**
 * The first line of standard input that `schema` accepts (reading at most `maxBytes`), or null when none
 * does before end of file. `input` replaces standard input (tests).
 */
export async function readJobLine<S extends z.ZodTypeAny>(
  schema: S,
  maxBytes = 1024 * 1024,
  input: AsyncIterable<Uint8Array> = Bun.stdin.stream(),
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
