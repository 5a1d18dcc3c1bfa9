/**
 * The OpenAPI 3.1 document of octo's HTTP API, generated from the zod schemas on the routes
 * (api/contract.ts) by Elysia's OpenAPI plugin (`@elysiajs/openapi`, its `toOpenAPISchema` generator, with
 * zod's own JSON Schema conversion: request schemas as zod's "input", answers as its "output") and served
 * as JSON at `GET /api/docs` (no auth; load it into any OpenAPI viewer).
 *
 * Why not the plugin's own route (`openapi()`): it serves the generator's output as it is, and some of it
 * is not what octo answers, so this module fixes it first: request bodies are JSON only (the generator
 * also lists form encodings, or nothing for a route with an `onParse` hook), a 204 has no body (the
 * generator gives it JSON content) and the image build streams NDJSON.
 * Its HTML viewers load scripts from a CDN, which octo's origin must never run.
 *
 * Only `/api/...` routes are documented (not the web app); a route with `detail: { hide: true }` is left
 * out. The session proxy, the voice WebSockets and what a token may do are in docs/api.md.
 */
import { toOpenAPISchema, unwrapSchema } from "@elysiajs/openapi/openapi";
import { type AnyElysia, Elysia } from "elysia";
import type { z } from "zod";
import { VERSION } from "../../common/version.ts";

/** The document (OpenAPI 3.1 as plain JSON). */
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, Operation>> };

/** What {@link finish} reads of an operation. */
interface Operation {
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
  [key: string]: unknown;
}

const OPENAPI_VERSION = "3.1.1";

/** How clients authenticate (docs/api.md "Authentication"). */
const SECURITY_SCHEMES = {
  bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "The token login and register answer" },
  cookie: { type: "apiKey", in: "cookie", name: "octo_token", description: "Set by login and register (HttpOnly, SameSite=Lax)" },
};

/** The routes that are part of the API: under /api/, except what a route hides itself. */
const NOT_API = /^(?!\/api\/)/;

/** The document of `app`'s routes (computed anew on each call: cache it). */
export function openApiDocument(app: AnyElysia): OpenApiDocument {
  const { paths: generated, components } = toOpenAPISchema(app, { paths: [NOT_API] }, undefined, undefined, OPENAPI_VERSION);
  const paths = generated as OpenApiDocument["paths"];
  for (const r of app.routes) {
    const operation = paths[r.path.replace(/:([^/]+)/g, "{$1}")]?.[r.method.toLowerCase()];
    if (operation && r.hooks.body) operation.requestBody = requestBody(r.hooks.body as z.ZodType);
  }
  return finish({
    openapi: OPENAPI_VERSION,
    info: {
      title: "octo",
      version: VERSION,
      description:
        "The HTTP API of octo, a self-hosted platform for AI coding agents. JSON in and out; every error is `{ error, code }`. " +
        "Authentication, cross-site rules, the session proxy and the voice WebSockets: docs/api.md.",
    },
    paths,
    components: { ...components, securitySchemes: SECURITY_SCHEMES },
  });
}

/**
 * A route's request body: JSON only, required unless the schema accepts a missing body. (The generator
 * lists form encodings too, and no content at all for a route with an `onParse` hook.)
 */
function requestBody(schema: z.ZodType): NonNullable<Operation["requestBody"]> & { required: boolean } {
  return {
    required: !schema.safeParse(undefined).success,
    content: { "application/json": { schema: unwrapSchema(schema, undefined, "input", OPENAPI_VERSION) } },
  };
}

/**
 * Makes the generator's output say what octo answers (see the module doc): 204s without content, a
 * schema with `x-media-type` (e.g. the NDJSON image build) under that media type, and no `$schema` keys
 * inside the document.
 */
export function finish(document: OpenApiDocument): OpenApiDocument {
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (status === "204") {
          delete response.content;
          continue;
        }
        const schema = response.content?.["application/json"]?.schema;
        const mediaType = schema?.["x-media-type"];
        if (schema && typeof mediaType === "string") {
          delete schema["x-media-type"];
          response.content = { [mediaType]: { schema } };
        }
      }
    }
  }
  return withoutSchemaKeys(document) as OpenApiDocument;
}

/**
 * `value` without `$schema` keys (zod puts one in every converted schema; the document's dialect is
 * 2020-12), and with `null` in the `enum` of a nullable enum (the generator folds `z.enum([...]).nullable()`
 * into `type: [..., "null"]` but leaves null out of the enum, which then refuses it).
 */
function withoutSchemaKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSchemaKeys);
  if (!value || typeof value !== "object") return value;
  const out = Object.fromEntries(Object.entries(value).filter(([k]) => k !== "$schema").map(([k, v]) => [k, withoutSchemaKeys(v)]));
  if (Array.isArray(out.enum) && Array.isArray(out.type) && out.type.includes("null") && !out.enum.includes(null)) out.enum = [...out.enum, null];
  return out;
}

/**
 * `GET /api/docs`: the document of the app `getApp()` returns (the app this route is mounted in), made
 * once on first request.
 */
export function apiDocs(getApp: () => AnyElysia) {
  let document: OpenApiDocument | null = null;
  return new Elysia({ name: "octo-api-docs" }).get("/api/docs", ({ set }) => {
    set.headers["cache-control"] = "no-cache";
    return (document ??= openApiDocument(getApp()));
  }, { detail: { hide: true } });
}
