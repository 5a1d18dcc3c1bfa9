/**
 * Checks a real answer of the app against the OpenAPI document it serves (server/api/openapi.ts): the
 * status must be one the route declares, and the body must be valid against that status's JSON Schema
 * (ajv, JSON Schema 2020-12 with formats), or absent for a 204. An answer to a path no route declares
 * must be the `/api/*` fallback's 404 `{ error, code }`.
 *
 * test/support/app.ts runs {@link checkAnswer} on every answer of every harness call, so each HTTP test
 * of the API is also a test that its routes and their schemas agree.
 */
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { AnyElysia } from "elysia";
import { type OpenApiDocument, openApiDocument } from "../../server/api/openapi.ts";

interface ResponseObject {
  content?: Record<string, { schema?: object }>;
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);

const documents = new WeakMap<AnyElysia, OpenApiDocument>();
const validators = new WeakMap<object, ValidateFunction>();

/** The document of `app`, made once per app. */
export function documentOf(app: AnyElysia): OpenApiDocument {
  let document = documents.get(app);
  if (!document) documents.set(app, (document = openApiDocument(app)));
  return document;
}

/** The document's path template matching `path` (no query), e.g. "/api/sessions/{id}", or null. */
export function templateOf(document: OpenApiDocument, path: string): string | null {
  const clean = path.replace(/\/+$/, "") || "/";
  for (const template of Object.keys(document.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    if (pattern.test(clean)) return template;
  }
  return null;
}

/** One answer as the check sees it. */
export interface Answer {
  method: string;
  /** The request target, with its query. */
  path: string;
  status: number;
  contentType: string | null;
  /** The raw body ("" for none). */
  text: string;
}

/** A problem in the wording tests print: "GET /api/sessions/{id} answered 200: /status must be ...". */
export class ContractViolation extends Error {
  override name = "ContractViolation";
}

/**
 * @throws ContractViolation when `answer` is not what the document says the route answers.
 */
export function checkAnswer(document: OpenApiDocument, answer: Answer): void {
  const path = answer.path.split("?")[0]!;
  const template = templateOf(document, path);
  const operation = template ? document.paths[template]?.[answer.method.toLowerCase()] : undefined;
  const where = `${answer.method} ${template ?? path} answered ${answer.status}`;
  const fail = (problem: string): never => {
    throw new ContractViolation(`${where}: ${problem}`);
  };
  if (!operation) {
    // Not a documented route: only the /api/* fallback (and the hidden /api/docs) may answer it.
    if (path === "/api/docs") return;
    if (answer.status !== 404) fail("no route of the document matches, yet the answer is not the 404 fallback");
    const body = parse(answer.text, fail);
    if (!isErrorBody(body)) fail(`the fallback's body is not { error, code }: ${answer.text.slice(0, 200)}`);
    return;
  }
  const responses = (operation.responses ?? {}) as Record<string, ResponseObject>;
  const declared = responses[String(answer.status)];
  if (!declared) fail(`the route declares only ${Object.keys(responses).join(", ")}`);
  if (!declared!.content) {
    if (answer.text !== "") fail(`a ${answer.status} has no body, but one came: ${answer.text.slice(0, 200)}`);
    return;
  }
  const [mediaType, media] = Object.entries(declared!.content)[0]!;
  if (mediaType !== "application/json") return; // a stream (the image build): its lines are checked by its own tests
  if (!answer.contentType?.startsWith("application/json")) fail(`content type ${answer.contentType}, not application/json`);
  let validate = validators.get(media);
  if (!validate) validators.set(media, (validate = ajv.compile(media.schema ?? {})));
  const body = parse(answer.text, fail);
  if (!validate(body)) {
    const problems = validate.errors!.map((e) => `${e.instancePath || "(body)"} ${e.message}`).join("; ");
    fail(`the body does not match the declared schema: ${problems}; body ${answer.text.slice(0, 300)}`);
  }
}

function parse(text: string, fail: (problem: string) => never): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fail(`the body is not JSON: ${text.slice(0, 200)}`);
  }
}

function isErrorBody(body: unknown): boolean {
  const b = body as { error?: unknown; code?: unknown } | null;
  return typeof b?.error === "string" && typeof b.code === "string" && Object.keys(b).length === 2;
}
