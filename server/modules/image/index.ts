/**
 * `POST /api/admin/image/build` (admin): builds the session image (`container/Dockerfile`, see
 * `server/runtime/image.ts`) through the container engine octo is configured for, then the egress proxy
 * image (`container/egress.Dockerfile`, `server/runtime/egress-image.ts`; built only when missing or its
 * inputs changed, and skipped when `[network] proxy_image` names the operator's own), and streams both
 * builds as they happen. This is what `octoctl image build` calls.
 *
 * Query: `no_cache=true` builds without the engine's layer cache.
 *
 * Errors before the build starts are ordinary JSON errors: 401/403, 409 BUILD_IN_PROGRESS (one build at a
 * time per server), 503 ENGINE_UNAVAILABLE (no engine answers). Once it starts, the answer is 200 with
 * `Content-Type: application/x-ndjson`, one JSON object per line:
 *
 *   { "type": "start", "tag": "octo-session:0.1.0", "engine": "podman", "engine_version": "4.3.1", "no_cache": false }
 *   { "type": "progress", "line": "STEP 1/9: FROM localhost/octo-base:bookworm" }      (each line of output)
 *   { "type": "done", "tag": "...", "id": "sha256:...", "seconds": 41.2,
 *     "egress": { "tag": "octo-egress:0.1.0", "built": false } }                        (last line on success)
 *   { "type": "error", "error": "Building ... failed: ...", "code": "IMAGE_BUILD_FAILED" } (last line on failure)
 *
 * The image is tagged `[container] image` (default `octo-session:<version>`). When the client goes away, the
 * build is aborted.
 */
import { Elysia } from "elysia";
import { errors, isYes, route } from "../../api/contract.ts";
import type { OctoConfig } from "../../config/schema.ts";
import { conflict, OctoError } from "../../../common/errors.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { createLogger } from "../../../common/log.ts";
import { connectEngine } from "../../runtime/engine.ts";
import { defaultEgressImageTag, ensureEgressImage } from "../../runtime/egress-image.ts";
import { buildSessionImage, defaultImageTag } from "../../runtime/image.ts";
import type { Admission } from "../../http/admission.ts";
import { BuildEvent, BuildQuery } from "./model.ts";

const log = createLogger("image");

export interface ImageDeps {
  config: OctoConfig;
  admission: Admission;
}

/** The image routes (mount in `server/app.ts` before the `/api/*` fallback). */
export function imageRoutes({ config, admission }: ImageDeps) {
  let building = false;
  return new Elysia({ prefix: "/api/admin/image" }).use(authPlugin(admission)).post(
    "/build",
    async ({ query, user }) => {
      if (building) throw conflict("An image build is already running on this server; wait for it to finish", "BUILD_IN_PROGRESS");
      building = true;
      const noCache = isYes(query.no_cache);
      const tag = config.container.image || defaultImageTag();
      let engine;
      try {
        engine = await connectEngine(config.container.socket);
      } catch (err) {
        building = false;
        throw err;
      }
      log.info("image build requested", { by: user.username, tag, noCache });
      const controller = new AbortController();
      const encoder = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        async start(out) {
          let open = true;
          const send = (event: BuildEvent) => {
            if (!open) return;
            try {
              out.enqueue(encoder.encode(`${JSON.stringify(event)}\n`));
            } catch {
              open = false;
            }
          };
          send({ type: "start", tag, engine: engine.name, engine_version: engine.version, no_cache: noCache });
          const started = performance.now();
          try {
            const result = await buildSessionImage({
              docker: engine.docker,
              tag,
              noCache,
              signal: controller.signal,
              onProgress: (line) => send({ type: "progress", line }),
            });
            let egress: { tag: string; built: boolean } | null = null;
            if (config.network.proxy_image) send({ type: "progress", line: `Egress proxy image: [network] proxy_image ${config.network.proxy_image} is the operator's own; not built` });
            else {
              const egressTag = defaultEgressImageTag();
              send({ type: "progress", line: `Egress proxy image ${egressTag}: checking its inputs` });
              const built = await ensureEgressImage(engine.docker, { tag: egressTag, signal: controller.signal, onProgress: (line) => send({ type: "progress", line }) });
              egress = { tag: egressTag, built };
            }
            send({ type: "done", tag: result.tag, id: result.id, seconds: Math.round((performance.now() - started) / 100) / 10, egress });
          } catch (err) {
            const error =
              err instanceof OctoError
                ? { error: err.message, code: err.code }
                : { error: `The build failed: ${(err as Error)?.message ?? String(err)}`, code: "IMAGE_BUILD_FAILED" };
            log.warn("image build failed", { tag, code: error.code });
            send({ type: "error", ...error });
          } finally {
            building = false;
            if (open) {
              try {
                out.close();
              } catch {
                // the client already went away
              }
            }
          }
        },
        cancel() {
          log.info("image build aborted: the client went away", { tag });
          controller.abort();
        },
      });
      return new Response(stream, { headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" } });
    },
    {
      admin: true,
      query: BuildQuery,
      response: {
        200: BuildEvent,
        ...errors({
          409: "BUILD_IN_PROGRESS: one build at a time per server",
          503: "ENGINE_UNAVAILABLE: no container engine answers",
        }),
      },
      detail: route("admin", "Build the session image", "Streams the build as it runs, one JSON object per line; aborted when the client goes away."),
    },
  );
}
