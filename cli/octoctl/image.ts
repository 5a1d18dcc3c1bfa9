/**
 * `octoctl image build [--no-cache]`: asks the server to build the session image (container mode) and the
 * egress proxy image (when missing or stale), and streams the build output as it arrives (`POST /api/admin/image/build`, an NDJSON stream; see
 * server/modules/image/index.ts). Admins only. With `--json` the stream's JSON lines are passed through.
 */
import type { Command } from "commander";
import type { BuildEvent } from "../../server/modules/image/model.ts";
import { CliError } from "../shared/errors.ts";
import { print, say } from "../shared/format.ts";
import { context } from "./context.ts";

/** An image build may take long (base layers, 300 MB of binaries); the server aborts it if we go away. */
const BUILD_TIMEOUT_MS = 60 * 60_000;

/** Registers the `image` command group. */
export function registerImage(program: Command): void {
  const group = program.command("image").description("manage the session image used in container mode (admins)");
  group
    .command("build")
    .description("build the session image and the egress proxy image on the server's container engine, showing the builds as they run")
    .option("--no-cache", "build without the engine's layer cache")
    .addHelpText(
      "after",
      `
The server builds container/Dockerfile with its own octo binary and the pinned OpenCode, on the engine it is
configured for ([container] socket), and tags it [container] image (default octo-session:<version>). Then it
builds the egress proxy image (container/egress.Dockerfile, octo-egress:<version>) that sessions with
[network] egress = "allowlist" or "none" use, unless it is up to date or [network] proxy_image names your
own. The base image (localhost/octo-base:bookworm) must exist on that engine. Press Ctrl-C to abort.`,
    )
    .action(async (options: { cache: boolean }, command: Command) => {
      const ctx = context(command);
      let body: ReadableStream<Uint8Array>;
      try {
        const query = { no_cache: options.cache ? undefined : "true" };
        body = await ctx.client.stream((api) => api.admin.image.build.post(undefined, { query }), { timeoutMs: BUILD_TIMEOUT_MS });
      } catch (err) {
        if (err instanceof CliError && err.code === "NOT_FOUND") {
          throw new CliError(`the octo server at ${ctx.server} has no image build API (POST /api/admin/image/build); upgrade it`, 1, "NOT_SUPPORTED");
        }
        throw err;
      }
      const decoder = new TextDecoder();
      let buffer = "";
      let last: BuildEvent | null = null;
      const handle = (line: string) => {
        if (!line.trim()) return;
        let event: BuildEvent;
        try {
          event = JSON.parse(line) as BuildEvent;
        } catch {
          throw new CliError(`${ctx.server} sent a build line that is not JSON: ${line.slice(0, 200)}`);
        }
        last = event;
        if (ctx.json) return print(line);
        if (event.type === "start") say(`Building ${event.tag} on ${event.engine} ${event.engine_version}${event.no_cache ? " without cache" : ""}…`);
        else if (event.type === "progress") print(event.line);
      };
      try {
        for await (const chunk of body) {
          buffer += decoder.decode(chunk, { stream: true });
          let nl: number;
          while ((nl = buffer.indexOf("\n")) >= 0) {
            handle(buffer.slice(0, nl));
            buffer = buffer.slice(nl + 1);
          }
        }
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError(`the connection to ${ctx.server} broke during the build: ${(err as Error).message}`);
      }
      handle(buffer);
      const end = last as BuildEvent | null;
      if (end?.type === "error") throw new CliError(end.error, 1, end.code);
      if (end?.type !== "done") throw new CliError(`the build stream from ${ctx.server} ended without a result; see the server's log`);
      if (ctx.json) return;
      say(`Built ${end.tag} (${end.id.replace(/^sha256:/, "").slice(0, 12)}) in ${end.seconds} s.`);
      if (end.egress) say(`Egress proxy image ${end.egress.tag}: ${end.egress.built ? "built" : "up to date"}.`);
    });
}
