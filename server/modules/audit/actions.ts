/**
 * The audit log's action names, in a module that imports nothing, so the web app can bundle the list for
 * its filter without pulling in the server (frontend/src/admin/AuditLog.tsx).
 *
 * Stable dotted names (`<group>.<verb>`), never renamed, so saved filters and exported logs keep their
 * meaning. `admin.*` are admins acting on other users' sessions; `audit.prune` is the retention pruner.
 */
export const AUDIT_ACTIONS = [
  "auth.login",
  "auth.login_failed",
  "auth.logout",
  "user.register",
  "user.role_change",
  "user.disable",
  "user.enable",
  "user.lifecycle_change",
  "user.password_reset",
  "user.llm_access",
  "invite.create",
  "invite.revoke",
  "session.create",
  "session.start",
  "session.stop",
  "session.delete",
  "session.commit",
  "session.push",
  "session.discard",
  "session.pull_request",
  "admin.session_stop",
  "admin.session_delete",
  "admin.session_egress",
  "admin.session_budget",
  "audit.prune",
  "token.create",
  "token.revoke",
  "task.create",
  "task.cancel",
  "webhook.create",
  "webhook.delete",
  "schedule.create",
  "schedule.delete",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The groups of {@link AUDIT_ACTIONS} ("auth", "user", ...), for `action=<group>.*` filters. */
export const AUDIT_ACTION_GROUPS: readonly string[] = [...new Set(AUDIT_ACTIONS.map((a) => a.split(".")[0]!))];
