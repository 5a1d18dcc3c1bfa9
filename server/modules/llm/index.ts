/**
 * LLM gateway routes (server/gateway): the providers a user's sessions get, a user's own provider keys
 * (stored with the vault, never returned), budgets with what is left, usage (`GET /api/usage`), the
 * admins' per-user access rules (audited as `user.llm_access`) and per-session budget overrides
 * (`/api/admin/sessions/:id/budget`, audited as `admin.session_budget`; applied at the next request).
 */
import { Elysia } from "elysia";
import { errors, INVALID_INPUT, isoTime, isYes, NoContent, route } from "../../api/contract.ts";
import { parseTime } from "../../../common/duration.ts";
import { notFound } from "../../../common/errors.ts";
import type { GatewayParts } from "../../gateway/index.ts";
import { offered } from "../../gateway/opencode-config.ts";
import type { Admission } from "../../http/admission.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import type { Database } from "../../db/database.ts";
import { requestOrigin } from "../audit/index.ts";
import { sessionTarget, userTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";
import type { SessionService } from "../sessions/service.ts";
import type { UserService } from "../users/service.ts";
import { AddProvider, BudgetQuery, Budgets, LlmAccess, LlmProviders, ProviderId, ProviderList, ProviderSummary, SessionBudget, SessionBudgetBody, SetUserKey, UsageQuery, UsageReport } from "./model.ts";
import type { ProviderSummary as Summary } from "../../gateway/registry.ts";
import { z } from "zod";

const DEFAULT_SINCE = "30d";
const ProviderParams = z.object({ provider: ProviderId });

export interface LlmRouteDeps {
  admission: Admission;
  llm: GatewayParts;
  users: UserService;
  sessions: SessionService;
  db: Database;
  audit: AuditService;
}

export function llmRoutes({ admission, llm, users, sessions, db, audit }: LlmRouteDeps) {
  const provider = (id: string) => {
    const found = llm.providers().find((p) => p.id === id);
    if (!found) throw notFound(`No provider "${id}" is configured`, "LLM_PROVIDER_NOT_FOUND");
    return found;
  };
  const labels = (group: string, keys: string[]): Map<string, string> => {
    const table = group === "user" ? "SELECT id, username AS label FROM users" : group === "session" ? "SELECT id, name AS label FROM sessions" : null;
    if (!table || keys.length === 0) return new Map();
    const rows = db.query(`${table} WHERE id IN (${keys.map(() => "?").join(",")})`).all(...keys) as { id: string; label: string }[];
    return new Map(rows.map((r) => [r.id, r.label]));
  };
  const budgetView = (id: string) => {
    const override = llm.sessionBudgets.get(id);
    const { overridden: _, ...effective } = llm.budgets.sessionLimits(id);
    const spent = llm.ledger.totals({ sessionId: id });
    const { session_budget, requests_per_minute } = llm.budgets.serverLimits();
    return {
      session_id: id,
      override: override && { tokens: override.tokens, cost_usd: override.cost_usd, requests_per_minute: override.requests_per_minute },
      effective,
      server: { ...session_budget, requests_per_minute },
      used: { tokens: spent.total_tokens, cost_usd: spent.cost_usd },
      updated_at: override ? new Date(override.updated_at).toISOString() : null,
      applies: "now" as const,
    };
  };

  return new Elysia({ prefix: "/api" })
    .use(authPlugin(admission))
    .get(
      "/llm/providers",
      ({ user }) => {
        const own = new Map(llm.credentials.userKeys(user.id).map((k) => [k.provider, k.created_at]));
        const offers = offered(llm.providers(), llm.credentials.access(user.id), llm.credentials);
        return {
          providers: offers.map(({ provider: p, models }) => ({
            id: p.id,
            type: p.type,
            models,
            server_key: p.apiKey !== "",
            user_key: own.has(p.id),
            user_key_added_at: own.has(p.id) ? new Date(own.get(p.id)!).toISOString() : null,
          })),
        };
      },
      { auth: true, response: { 200: LlmProviders, ...errors({}) }, detail: route("llm", "Providers your sessions get", "Empty when no provider is configured.") },
    )
    .put(
      "/llm/keys/:provider",
      ({ user, params, body, set }) => {
        llm.credentials.setUserKey(user.id, provider(params.provider).id, body.api_key);
        set.status = 204;
      },
      {
        auth: true,
        params: ProviderParams,
        body: SetUserKey,
        response: { 204: NoContent, ...errors({ 400: INVALID_INPUT, 404: "LLM_PROVIDER_NOT_FOUND" }) },
        detail: route("llm", "Add your own key for a provider", "Stored encrypted, never shown again; your sessions started afterwards use it."),
      },
    )
    .delete(
      "/llm/keys/:provider",
      ({ user, params, set }) => {
        llm.credentials.removeUserKey(user.id, params.provider);
        set.status = 204;
      },
      {
        auth: true,
        params: ProviderParams,
        response: { 204: NoContent, ...errors({ 400: INVALID_INPUT, 404: "LLM_KEY_NOT_FOUND" }) },
        detail: route("llm", "Remove your own key for a provider"),
      },
    )
    .get(
      "/llm/budget",
      ({ user, query }) => {
        if (query.session) sessions.get(user.id, query.session);
        return { budgets: llm.budgets.state(user.id, query.session ?? null) };
      },
      {
        auth: true,
        query: BudgetQuery,
        response: { 200: Budgets, ...errors({ 400: INVALID_INPUT, 404: "SESSION_NOT_FOUND" }) },
        detail: route("llm", "Your budgets and what is left"),
      },
    )
    .get(
      "/usage",
      ({ user, query, set }) => {
        set.headers["cache-control"] = "no-store";
        const all = isYes(query.all) && user.role === "admin";
        const since = parseTime(query.since ?? DEFAULT_SINCE);
        const rows = llm.ledger.grouped(query.group_by, since, all ? null : user.id);
        const names = labels(query.group_by, rows.map((r) => r.key));
        return {
          group_by: query.group_by,
          since: new Date(since).toISOString(),
          scope: all ? ("all" as const) : ("own" as const),
          rows: rows.map((r) => ({ ...r, label: names.get(r.key) ?? r.key })),
        };
      },
      {
        auth: true,
        query: UsageQuery,
        response: { 200: UsageReport, ...errors({ 400: INVALID_INPUT }) },
        detail: route("llm", "LLM usage", "Your own, or with ?all=true everyone's (admins)."),
      },
    )
    .get("/admin/providers", () => ({ providers: llm.registry.summaries().map(presentProvider) }), {
      admin: true,
      response: { 200: ProviderList, ...errors({}) },
      detail: route("admin", "The LLM gateway's providers", "Configured ones and those added by admins; keys are never shown."),
    })
    .post(
      "/admin/providers",
      ({ body, set }) => {
        set.status = 201;
        return presentProvider(llm.registry.add(body));
      },
      {
        admin: true,
        body: AddProvider,
        response: { 201: ProviderSummary, ...errors({ 400: `${INVALID_INPUT}, LLM_PROVIDER_INVALID`, 409: "LLM_PROVIDER_EXISTS" }) },
        detail: route("admin", "Add a provider", "Sessions started afterwards get it; no restart needed."),
      },
    )
    .delete(
      "/admin/providers/:id",
      ({ params, set }) => {
        llm.registry.remove(params.id);
        set.status = 204;
      },
      {
        admin: true,
        response: { 204: NoContent, ...errors({ 404: "LLM_PROVIDER_NOT_FOUND", 409: "LLM_PROVIDER_IN_CONFIG" }) },
        detail: route("admin", "Remove an admin-added provider", "Its requests are refused from then on; sessions started afterwards no longer get it."),
      },
    )
    .get(
      "/admin/users/:id/llm-access",
      ({ params }) => {
        users.get(params.id);
        return llm.credentials.access(params.id);
      },
      { admin: true, response: { 200: LlmAccess, ...errors({ 404: "USER_NOT_FOUND" }) }, detail: route("admin", "Which providers and models a user may use") },
    )
    .put(
      "/admin/users/:id/llm-access",
      ({ params, body, user, request }) => {
        const target = users.get(params.id);
        llm.credentials.setAccess(params.id, body);
        audit.record({
          ...requestOrigin(user, request),
          action: "user.llm_access",
          target: userTarget(target),
          detail: { providers: body.providers === null ? "all" : body.providers.length, models: body.models === null ? "all" : body.models.length },
        });
        return llm.credentials.access(params.id);
      },
      {
        admin: true,
        body: LlmAccess,
        response: { 200: LlmAccess, ...errors({ 400: INVALID_INPUT, 404: "USER_NOT_FOUND" }) },
        detail: route("admin", "Set which providers and models a user may use", "Applies to sessions started afterwards and to every request."),
      },
    )
    .get(
      "/admin/sessions/:id/budget",
      ({ params }) => {
        sessions.getAny(params.id);
        return budgetView(params.id);
      },
      { admin: true, response: { 200: SessionBudget, ...errors({ 404: "SESSION_NOT_FOUND" }) }, detail: route("admin", "A session's LLM budget", "Its override (if any), the limits in force and what it spent.") },
    )
    .put(
      "/admin/sessions/:id/budget",
      ({ params, body, user, request }) => {
        const session = sessions.getAny(params.id);
        llm.sessionBudgets.set(params.id, body, user.id);
        audit.record({ ...requestOrigin(user, request), action: "admin.session_budget", target: sessionTarget(session), detail: { owner: session.owner.username, budget: budgetSummary(body) } });
        return budgetView(params.id);
      },
      {
        admin: true,
        body: SessionBudgetBody,
        response: { 200: SessionBudget, ...errors({ 400: INVALID_INPUT, 404: "SESSION_NOT_FOUND" }) },
        detail: route("admin", "Set a session's LLM budget", "Replaces [gateway] session_budget and requests_per_minute for this session, field by field; applies to its next request."),
      },
    )
    .delete(
      "/admin/sessions/:id/budget",
      ({ params, user, request }) => {
        const session = sessions.getAny(params.id);
        llm.sessionBudgets.clear(params.id);
        audit.record({ ...requestOrigin(user, request), action: "admin.session_budget", target: sessionTarget(session), detail: { owner: session.owner.username, budget: "default" } });
        return budgetView(params.id);
      },
      { admin: true, response: { 200: SessionBudget, ...errors({ 404: "SESSION_NOT_FOUND" }) }, detail: route("admin", "Return a session to the server's budget") },
    );
}

/** An override in one line for the audit log ("tokens=5000 cost_usd=server requests_per_minute=0"): detail keys may not name tokens. */
function budgetSummary(body: Record<"tokens" | "cost_usd" | "requests_per_minute", number | null>): string {
  return Object.entries(body).map(([k, v]) => `${k}=${v ?? "server"}`).join(" ");
}

function presentProvider(p: Summary) {
  return { ...p, created_at: isoTime(p.created_at) };
}
