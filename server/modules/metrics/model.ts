/** The contract of `GET /metrics` (modules/metrics/index.ts). */
import { z } from "zod";

/** The Prometheus text exposition format, version 0.0.4 (what prom-client's registry renders). */
export const MetricsText = z
  .string()
  .describe("Prometheus text exposition format 0.0.4")
  .meta({ "x-media-type": "text/plain; version=0.0.4; charset=utf-8" });
