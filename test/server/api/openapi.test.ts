/**
 * The API's contract: the OpenAPI document `GET /api/docs` serves (server/api/openapi.ts) is valid
 * OpenAPI 3.1 (@seriousme/openapi-schema-validator), documents every `/api` route of the real app with its
 * answers and `{ error, code }` errors, and a route whose answer breaks its schema fails: at run time
 * (Elysia validates answers: a 500, logged without the answer's values) and in tests (every answer of the
 * API harness is checked against the document, test/support/contract.ts; checked here on wrong answers).
 */
import { afterAll, describe, expect, spyOn, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Elysia } from "elysia";
import { z } from "zod";
import { ErrorBody, errors } from "../../../server/api/contract.ts";
import type { OpenApiDocument } from "../../../server/api/openapi.ts";
import { LoginResult } from "../../../server/modules/auth/model.ts";
import { VERSION } from "../../../common/version.ts";
import { closeHarnesses, harness, withAdmin } from "../../support/app.ts";
import { type Answer, checkAnswer, ContractViolation, documentOf } from "../../support/contract.ts";

afterAll(closeHarnesses);

type Operation = OpenApiDocument["paths"][string][string];

/** Every operation of the document as `[METHOD path, operation]`. */
function operations(document: OpenApiDocument): [string, Operation][] {
  return Object.entries(document.paths).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => [`${m.toUpperCase()} ${path}`, op] as [string, Operation]));
}

describe("GET /api/docs", () => {
  test("needs no login and answers an OpenAPI 3.1 document that validates", async () => {
    const h = harness();
    const res = await h.call("GET", "/api/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const result = await new Validator().validate(res.json);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    // (Not toMatchObject with expect.stringMatching: Bun's writes the matcher into the received object.)
    expect([res.json.openapi, res.json.info.title, res.json.info.version]).toEqual(["3.1.1", "octo", VERSION]);
    expect(JSON.stringify(res.json)).not.toContain('"$schema"');
    // The validator is not lenient: the generator's own 204 (a media type map holding a JSON Schema) fails it.
    const raw = structuredClone(res.json);
    raw.paths["/api/sessions/{id}"].delete.responses["204"] = { description: "No content", content: { type: "null", description: "No content" } };
    expect((await new Validator().validate(raw)).valid).toBe(false);
  });

  test("documents every /api route of the app, and nothing else", async () => {
    const h = harness();
    const document = documentOf(h.app);
    const fromApp = h.app.routes
      .filter((r) => r.path.startsWith("/api/") && !(r.hooks.detail as { hide?: boolean } | undefined)?.hide)
      .map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, "{$1}")}`)
      .sort();
    expect(operations(document).map(([key]) => key).sort()).toEqual(fromApp);
    expect(fromApp).toContain("POST /api/sessions/{id}/start");
    expect(fromApp.length).toBeGreaterThanOrEqual(23);
  });

  test("each operation has a summary and tag, a success answer and its errors as { error, code }, 500 included", () => {
    const document = documentOf(harness().app);
    const errorSchema = z.toJSONSchema(ErrorBody, { io: "output" }) as { properties: object; required: string[] };
    for (const [key, op] of operations(document)) {
      const responses = op.responses as Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
      const statuses = Object.keys(responses);
      expect([key, typeof op.summary, (op.tags as string[]).length]).toEqual([key, "string", 1]);
      expect([key, statuses.some((s) => s.startsWith("2"))]).toEqual([key, true]);
      expect([key, statuses]).toEqual([key, expect.arrayContaining(["500"])]);
      for (const status of statuses.filter((s) => Number(s) >= 400)) {
        const schema = responses[status]!.content!["application/json"]!.schema;
        expect([key, status, schema.properties, schema.required]).toEqual([key, status, errorSchema.properties, errorSchema.required]);
        expect(responses[status]!.description.length).toBeGreaterThan(0);
      }
    }
  });

  test("routes behind a login declare 401 and 403 and the bearer and cookie schemes; public ones do not", () => {
    const document = documentOf(harness().app);
    const isPublic = (key: string) => ["GET /api/health", "GET /api/features", "GET /api/auth/session", "POST /api/auth/login", "POST /api/auth/register"].includes(key);
    for (const [key, op] of operations(document)) {
      const statuses = Object.keys(op.responses ?? {});
      if (isPublic(key)) expect([key, op.security, statuses.includes("401")]).toEqual([key, undefined, key === "POST /api/auth/login"]);
      else expect([key, op.security, statuses]).toEqual([key, [{ bearer: [] }, { cookie: [] }], expect.arrayContaining(["401", "403"])]);
    }
    expect(Object.keys((document.components as { securitySchemes: object }).securitySchemes).sort()).toEqual(["bearer", "cookie"]);
  });

  test("request bodies are JSON, required unless a missing body is allowed; 204s have no content; the image build streams NDJSON", () => {
    const { paths } = documentOf(harness().app);
    const body = (path: string, method: string) => paths[path]![method]!.requestBody as { required: boolean; content: Record<string, { schema: { properties: object } }> };
    expect(Object.keys(body("/api/auth/login", "post").content)).toEqual(["application/json"]);
    expect(body("/api/auth/login", "post").required).toBe(true);
    expect(Object.keys(body("/api/auth/register", "post").content["application/json"]!.schema.properties).sort()).toEqual(["email", "invite_code", "password", "username"]);
    expect(body("/api/sessions", "post").required).toBe(false);
    expect(body("/api/admin/users/{id}", "patch").required).toBe(false);
    expect(paths["/api/sessions/{id}"]!.delete!.responses!["204"] as object).toEqual({ description: "No content" });
    expect(Object.keys(paths["/api/admin/image/build"]!.post!.responses!["200"]!.content!)).toEqual(["application/x-ndjson"]);
    const query = (paths["/api/admin/audit"]!.get!.parameters as { name: string; in: string }[]).map((p) => `${p.in}:${p.name}`);
    expect(query).toEqual(["query:user", "query:action", "query:since", "query:until", "query:limit", "query:cursor"]);
  });
});

describe("a route and its schema must agree", () => {
  /** Routes whose answers break their own schemas, mounted where the web app goes. */
  const broken = new Elysia()
    .get("/broken/login", () => ({ token: "SECRET-TOKEN-VALUE", user: { id: 7 } }) as never, { response: { 200: LoginResult, ...errors({}) } })
    .get("/broken/status", ({ set }) => {
      set.status = 418;
      return { whatever: true } as never;
    }, { response: { 200: z.object({ ok: z.boolean() }), ...errors({}) } });

  test("at run time: an answer that breaks its response schema is a 500 INTERNAL, logged with the field, never the value", async () => {
    const h = harness({}, undefined, broken);
    const written: string[] = [];
    const spy = spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    let res;
    try {
      res = await h.call("GET", "/broken/login", { contract: false });
    } finally {
      spy.mockRestore();
    }
    expect([res.status, res.json]).toEqual([500, { error: "Internal server error", code: "INTERNAL" }]);
    const log = written.join("");
    expect(log).toContain("the answer does not match the route's response schema");
    expect(log).toContain("user.id");
    expect(log).not.toContain("SECRET-TOKEN-VALUE");
  });

  test("in tests: the harness refuses an undeclared status, a body the schema refuses, a body on a 204 and an undocumented answer", async () => {
    const h = await withAdmin();
    const document = documentOf(h.app);
    const session = (await h.call("POST", "/api/sessions", { token: h.user.token })).json;
    const answer = (a: Partial<Answer>): Answer => ({ method: "GET", path: `/api/sessions/${session.id}`, status: 200, contentType: "application/json", text: JSON.stringify(session), ...a });
    expect(() => checkAnswer(document, answer({}))).not.toThrow();
    const cases: [Partial<Answer>, string][] = [
      [{ status: 418 }, "GET /api/sessions/{id} answered 418: the route declares only 200, 401, 403, 404, 500"],
      [{ text: JSON.stringify({ ...session, status: "sleeping" }) }, "/status must be equal to one of the allowed values"],
      [{ text: JSON.stringify({ ...session, name: undefined }) }, "(body) must have required property 'name'"],
      [{ text: JSON.stringify({ ...session, created_at: "yesterday" }) }, '/created_at must match format "date-time"'],
      [{ status: 404, text: JSON.stringify({ error: "gone" }) }, "(body) must have required property 'code'"],
      [{ contentType: "text/html" }, "content type text/html, not application/json"],
      [{ method: "DELETE", status: 204, contentType: null, text: "{}" }, "a 204 has no body, but one came"],
      [{ path: "/api/nowhere", status: 200 }, "no route of the document matches"],
    ];
    for (const [wrong, message] of cases) {
      expect(() => checkAnswer(document, answer(wrong))).toThrow(ContractViolation);
      expect(() => checkAnswer(document, answer(wrong))).toThrow(message);
    }
  });

  test("in tests: an answer of a route the document does not have fails the call", async () => {
    const h = harness({}, undefined, broken);
    // Outside /api, so undocumented; and Elysia validates only declared statuses, so its 418 reaches the client.
    await expect(h.call("GET", "/broken/status")).rejects.toThrow("GET /broken/status answered 418: no route of the document matches");
  });
});
