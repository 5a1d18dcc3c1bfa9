/**
 * A real octo database in a temporary directory, with the services built over it by server/services.ts
 * (as `octo serve` builds them), and helpers to make users through the real registration path (invite code + argon2id).
 */
import { join } from "node:path";
import { OctoConfig } from "../../server/config/schema.ts";
import { type Database, openDatabase } from "../../server/db/database.ts";
import type { AuditService } from "../../server/modules/audit/service.ts";
import type { AuthService } from "../../server/modules/auth/service.ts";
import type { TokenService } from "../../server/modules/auth/tokens.ts";
import type { InviteService } from "../../server/modules/invites/service.ts";
import type { Role, User } from "../../server/modules/users/model.ts";
import type { UserService } from "../../server/modules/users/service.ts";
import { randomSecret } from "../../common/ids.ts";
import { createAuthServices } from "../../server/services.ts";
import { tempDir } from "./tmp.ts";

/** Password every helper-made user gets. */
export const TEST_PASSWORD = "correct horse battery";

export interface TestDb {
  /** Directory holding the database file (use it as octo's data dir). */
  dir: string;
  /** Path of the SQLite file. */
  file: string;
  db: Database;
}

/** Opens (creating and migrating) `octo.db` in a new temporary directory. */
export function testDatabase(prefix = "db-"): TestDb {
  const dir = tempDir(prefix);
  const file = join(dir, "octo.db");
  return { dir, file, db: openDatabase(file) };
}

export interface AuthStack extends TestDb {
  users: UserService;
  invites: InviteService;
  tokens: TokenService;
  auth: AuthService;
  audit: AuditService;
  secret: string;
}

export interface AuthStackOptions {
  /** Token lifetime, seconds (default 3600). */
  ttlSeconds?: number;
  loginMaxAttempts?: number;
  loginWindowSeconds?: number;
  /** Registrations per client and window, password hashes at once and queued (default: the schema's). */
  registerMaxAttempts?: number;
  registerWindowSeconds?: number;
  passwordHashConcurrency?: number;
  passwordHashQueue?: number;
  /** Reuse an existing database instead of a new one. */
  database?: TestDb;
  /** JWT secret (default: a new random one). */
  secret?: string;
}

/**
 * Users, invites, tokens, auth and the audit log (kept for ever) over a real temporary database, wired by
 * `createAuthServices` (server/services.ts) as the server wires them.
 */
export function authStack(options: AuthStackOptions = {}): AuthStack {
  const base = options.database ?? testDatabase();
  const secret = options.secret ?? randomSecret(64);
  const config = testConfig({
    auth: {
      token_ttl_seconds: options.ttlSeconds ?? 3600,
      login_max_attempts: options.loginMaxAttempts ?? 10,
      login_window_seconds: options.loginWindowSeconds ?? 300,
      ...(options.registerMaxAttempts === undefined ? {} : { register_max_attempts: options.registerMaxAttempts }),
      ...(options.registerWindowSeconds === undefined ? {} : { register_window_seconds: options.registerWindowSeconds }),
      ...(options.passwordHashConcurrency === undefined ? {} : { max_concurrent_password_hashes: options.passwordHashConcurrency }),
      ...(options.passwordHashQueue === undefined ? {} : { max_queued_password_hashes: options.passwordHashQueue }),
    },
    audit: { retention_days: 0 },
  });
  const { users, invites, tokens, auth, audit } = createAuthServices(config, { db: base.db, secret });
  return { ...base, users, invites, tokens, auth, audit, secret };
}

/**
 * Registers a user through a fresh one-use invite code granting `role`.
 * @returns the user and a valid token.
 */
export async function registerUser(
  stack: Pick<AuthStack, "auth" | "invites">,
  username: string,
  role: Role = "user",
  password = TEST_PASSWORD,
): Promise<{ user: User; token: string }> {
  const invite = stack.invites.create({ role }, null);
  const result = await stack.auth.register({ username, password, invite_code: invite.code });
  return { user: result.user, token: result.token };
}

let testPasswordHash: Promise<string> | undefined;

/**
 * Inserts a user directly (no invite code), with {@link TEST_PASSWORD} hashed once per test process: for
 * tests that need users but do not test registration (argon2id takes ~100 ms per hash on these machines).
 * @returns the user and a valid token.
 */
export async function quickUser(
  stack: Pick<AuthStack, "users" | "tokens">,
  username: string,
  role: Role = "user",
): Promise<{ user: User; token: string }> {
  testPasswordHash ??= Bun.password.hash(TEST_PASSWORD, { algorithm: "argon2id" });
  const user = stack.users.insert({ username, email: null, passwordHash: await testPasswordHash, role, inviteCodeId: null });
  const { token } = await stack.tokens.issue(user.id);
  return { user, token };
}

/** A validated config with `overrides` merged per section (e.g. `{ runtime: { on_failure: "restart" } }`). */
export function testConfig(overrides: Record<string, Record<string, unknown>> = {}): OctoConfig {
  return OctoConfig.parse(overrides);
}
