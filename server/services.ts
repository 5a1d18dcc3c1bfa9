/**
 * The service graph, wired once: `startServer` (server.ts) and the test helpers (test/support/db.ts
 * `authStack`, test/support/fakes.ts `sessionStack`) all build their services here, so a new service or a
 * new dependency between two of them is added in one place.
 *
 * {@link createAuthServices} is the part without sessions (users, invite codes, tokens, authentication, the
 * audit log, the admission path), for what has no runtime: the auth tests, the CLI's tools on a data dir.
 * {@link createServices} adds the runtime and the session service, and decides whether this octo serves
 * one user only (server/runtime/isolation.ts).
 *
 * Building the graph starts nothing: no timer, no listener, no process. The server starts the background
 * work it wants (session polling, the access watch, `AuthService.startPruning`, `AuditService.startPruning`).
 */
import { join } from "node:path";
import { createAdmission } from "./app.ts";
import type { OctoConfig } from "./config/schema.ts";
import type { Database } from "./db/database.ts";
import type { Admission } from "./http/admission.ts";
import { AuditService } from "./modules/audit/service.ts";
import { AuthService } from "./modules/auth/service.ts";
import { TokenService } from "./modules/auth/tokens.ts";
import { InviteService } from "./modules/invites/service.ts";
import { GitCredentialService } from "./modules/git-credentials/service.ts";
import { SessionService } from "./modules/sessions/service.ts";
import { UserService } from "./modules/users/service.ts";
import { allowsSharing, type Isolation } from "./runtime/isolation.ts";
import type { Runtime } from "./runtime/types.ts";
import { loadOrCreateSecret } from "./secrets.ts";
import { Vault } from "./vault.ts";

/** Users, invite codes, tokens, authentication, the audit log and the admission path over one database. */
export interface AuthServices {
  config: OctoConfig;
  db: Database;
  users: UserService;
  invites: InviteService;
  tokens: TokenService;
  auth: AuthService;
  audit: AuditService;
  /** The one admission path of the API and both proxies (http/admission.ts). */
  admission: Admission;
}

/** {@link AuthServices} plus the runtime and the sessions it runs. */
export interface Services extends AuthServices {
  runtime: Runtime;
  sessions: SessionService;
  /** Users' git credentials (vault-sealed), for clones, pushes and pull requests. */
  gitCredentials: GitCredentialService;
  /** How sessions are isolated, and whether this octo serves one user only (no sandbox). */
  isolation: Isolation & { singleUser: boolean };
}

export interface AuthServiceDeps {
  db: Database;
  /** The JWT signing secret (`<data dir>/jwt-secret` for the server). */
  secret: string;
  /** One account only (see `InviteOptions.singleUser`); default false. */
  singleUser?: boolean;
}

/** Builds the {@link AuthServices} from `config`'s `[auth]`, `[audit]` and `[server]` sections. */
export function createAuthServices(config: OctoConfig, { db, secret, singleUser = false }: AuthServiceDeps): AuthServices {
  const users = new UserService(db);
  const invites = new InviteService(db, { singleUser });
  const audit = new AuditService(db, { retentionDays: config.audit.retention_days });
  const tokens = new TokenService(secret, config.auth.token_ttl_seconds);
  const auth = new AuthService(db, users, invites, tokens, {
    loginMaxAttempts: config.auth.login_max_attempts,
    loginWindowSeconds: config.auth.login_window_seconds,
    registerMaxAttempts: config.auth.register_max_attempts,
    registerWindowSeconds: config.auth.register_window_seconds,
    passwordHashConcurrency: config.auth.max_concurrent_password_hashes,
    passwordHashQueue: config.auth.max_queued_password_hashes,
  });
  return { config, db, users, invites, tokens, auth, audit, admission: createAdmission(auth, config) };
}

export interface ServiceDeps {
  db: Database;
  runtime: Runtime;
  /** The data dir: sessions live in `<dataDir>/sessions/<id>`. */
  dataDir: string;
  /** The JWT secret; default: `<dataDir>/jwt-secret`, made on first use (secrets.ts). */
  secret?: string;
}

/** Builds every service of a server (see the module doc). */
export function createServices(config: OctoConfig, { db, runtime, dataDir, secret }: ServiceDeps): Services {
  const isolation = runtime.isolation();
  const singleUser = !allowsSharing(isolation, config);
  const base = createAuthServices(config, { db, secret: secret ?? loadOrCreateSecret(join(dataDir, "jwt-secret")), singleUser });
  const gitCredentials = new GitCredentialService(db, Vault.forDataDir(dataDir));
  const sessions = new SessionService(db, runtime, {
    dataDir,
    runtime: config.runtime,
    opencode: config.opencode,
    sessions: config.sessions,
    gitCredentials: (userId, repository) => gitCredentials.forRepository(userId, repository),
  });
  return { ...base, runtime, sessions, gitCredentials, isolation: { ...isolation, singleUser } };
}
