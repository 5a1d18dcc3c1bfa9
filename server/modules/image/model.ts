/**
 * The image build's query and its stream: `POST /api/admin/image/build` answers `application/x-ndjson`,
 * one {@link BuildEvent} per line (see index.ts).
 */
import { z } from "zod";
import { queryFlag } from "../../api/contract.ts";

export const BuildQuery = z.object({ no_cache: queryFlag("build without the engine's layer cache") });

/** One line of the build stream: `start`, then `progress` lines, then `done` or `error`. */
export const BuildEvent = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("start"), tag: z.string(), engine: z.string(), engine_version: z.string(), no_cache: z.boolean() }),
    z.object({ type: z.literal("progress"), line: z.string().describe("A line of the engine's output") }),
    z.object({
      type: z.literal("done"),
      tag: z.string(),
      id: z.string(),
      seconds: z.number(),
      egress: z
        .object({ tag: z.string(), built: z.boolean().describe("false: it was up to date") })
        .nullable()
        .optional()
        .describe("The egress proxy image, checked and built after the session image; null when [network] proxy_image names the operator's own"),
    }),
    z.object({ type: z.literal("error"), error: z.string(), code: z.string() }),
  ])
  .meta({ description: "One line of the stream (application/x-ndjson: one JSON object per line)", "x-media-type": "application/x-ndjson" });
export type BuildEvent = z.infer<typeof BuildEvent>;
