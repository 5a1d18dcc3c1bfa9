/**
 * Authentication: login, registration with an invite code, logout (server-side revocation), and turning a
 * token into the current user for every API call and every proxied request.
 *
 * Passwords are hashed with argon2id (`Bun.password`), never more at once than `PasswordHasher` allows
 * (passwords.ts). Logins are throttled per username+client address with rate-limiter-flexible
 * (`[auth] login_max_attempts` per `login_window_seconds`), registrations per client address
 * (`register_max_attempts` per `register_window_seconds`). Each attempt is counted *before* its password or
 * invite code is checked, so a burst of parallel requests evaluates no more guesses than the limit allows;
 * a successful login clears its count, a successful registration gives its attempt back.
 */
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { AuthConfig } from "../../config/schema.ts";
import type { Database } from "../../db/database.ts";
import { databaseVersion } from "../../db/changes.ts";
import { OctoError, unauthorized } from "../../../common/errors.ts";
import { createLogger } from "../../../common/log.ts";
import { logins } from "../../metrics.ts";
import type { InviteService } from "../invites/service.ts";
import type { Scope } from "../tokens/model.ts";
import { AccessTokenService, isAccessToken } from "../tokens/service.ts";
import { toUser, type User } from "../users/model.ts";
import type { UserService } from "../users/service.ts";
import type { LoginBody, RegisterBody } from "./model.ts";
import { PasswordHasher } from "./passwords.ts";
import type { TokenClaims, TokenService } from "./tokens.ts";

const log = createLogger("auth");

export interface AuthResult {
  token: string;
  user: User;
  claims: TokenClaims;
}

/** The authenticated caller. (A type alias, not an interface: Elysia's macro `resolve` needs an index-compatible object type.) */
export type Principal = {
  user: User;
  claims: TokenClaims;
  /**
   * The scopes of a personal access token (modules/tokens); absent for a login token, which may do all its
   * user may. http/scopes.ts decides which scope a request needs.
   */
  scopes?: Scope[];
};

/** The `exp` of a token that never expires: 9999-12-31 (seconds). */
const NEVER_EXPIRES = 253_402_300_799;
/** Most login tokens whose check {@link AuthService.authenticate} remembers (oldest dropped first). */
const CHECKED_CACHE_SIZE = 1024;

export interface AuthOptions {
  loginMaxAttempts: number;
  loginWindowSeconds: number;
  /** Registrations per client address and window (default: the `[auth]` schema's). */
  registerMaxAttempts?: number;
  registerWindowSeconds?: number;
  /** Password hashes at once and waiting (default: the `[auth]` schema's). */
  passwordHashConcurrency?: number;
  passwordHashQueue?: number;
}

/** The `[auth]` defaults, for options a caller leaves out. */
const DEFAULTS = AuthConfig.parse({});

export class AuthService {
  private readonly failures: RateLimiterMemory;
  private readonly registrations: RateLimiterMemory;
  /** Every argon2id hash and verification of this service goes through here. */
  readonly passwords: PasswordHasher;
  /** A real argon2id hash to verify against when the user does not exist, so timing does not reveal it. */
  private readonly dummyHash = Bun.password.hash("octo-timing-equaliser", { algorithm: "argon2id" });
  private readonly isRevoked;
  private readonly revoke;
  /** The database's version (db/changes.ts): changes whenever any connection commits. */
  private readonly dbVersion: () => string;
  /**
   * Login tokens that passed {@link authenticate}, with the database version they were checked at. A hit is
   * only used while the database is unchanged (so a logout, a disabled account, a password reset or a role
   * change, from this process or from the CLI writing the same file, takes effect on the next request) and
   * the token has not expired. Spares the two reads (revocation, user row) per request.
   */
  private readonly checked = new Map<string, { principal: Principal; version: string }>();
  /** Personal access tokens (modules/tokens/service.ts). */
  readonly accessTokens: AccessTokenService;

  constructor(
    private readonly db: Database,
    private readonly users: UserService,
    private readonly invites: InviteService,
    readonly tokens: TokenService,
    options: AuthOptions,
  ) {
    this.failures = new RateLimiterMemory({ points: options.loginMaxAttempts, duration: options.loginWindowSeconds });
    this.registrations = new RateLimiterMemory({
      points: options.registerMaxAttempts ?? DEFAULTS.register_max_attempts,
      duration: options.registerWindowSeconds ?? DEFAULTS.register_window_seconds,
    });
    this.passwords = new PasswordHasher({
      concurrency: options.passwordHashConcurrency ?? DEFAULTS.max_concurrent_password_hashes,
      queue: options.passwordHashQueue ?? DEFAULTS.max_queued_password_hashes,
    });
    this.accessTokens = new AccessTokenService(db);
    this.isRevoked = db.query("SELECT 1 AS hit FROM revoked_tokens WHERE jti = ?");
    this.revoke = db.query("INSERT OR IGNORE INTO revoked_tokens (jti, user_id, expires_at) VALUES (?, ?, ?)");
    this.dbVersion = databaseVersion(db);
  }

  /**
   * Checks a username and password.
   * @param client the caller's address, for throttling.
   * @throws OctoError 401 INVALID_CREDENTIALS, 403 ACCOUNT_DISABLED, 429 TOO_MANY_ATTEMPTS (with Retry-After),
   *   429 SERVER_BUSY (too many password checks in flight).
   */
  async login(body: LoginBody, client: string): Promise<AuthResult> {
    try {
      const result = await this.checkLogin(body, client);
      logins.inc({ outcome: "success" });
      return result;
    } catch (err) {
      logins.inc({ outcome: "failure" });
      throw err;
    }
  }

  private async checkLogin(body: LoginBody, client: string): Promise<AuthResult> {
    const key = `${body.username.toLowerCase()}|${client}`;
    await count(this.failures, key, "Too many failed logins");

    const row = this.users.findRowByName(body.username);
    const ok = await this.passwords.verify(body.password, row?.password_hash ?? (await this.dummyHash));
    if (!row || !ok) {
      log.info("login failed", { user: body.username, client });
      throw unauthorized("Wrong username or password", "INVALID_CREDENTIALS");
    }
    if (row.disabled) throw new OctoError(403, "ACCOUNT_DISABLED", "This account is disabled");
    await this.failures.delete(key);
    const { token, claims } = await this.tokens.issue(row.id);
    log.info("login", { user: row.username });
    return { token, user: toUser(row), claims };
  }

  /**
   * Creates an account with an invite code; the code's use and the new user are one transaction. The code is
   * checked first, so a bad code gets the same answer whatever the username (no way to learn which names
   * exist without an invite) and costs no password hash.
   * @param client the caller's address, for throttling ("local" for in-process callers).
   * @throws OctoError 400 INVALID_INVITE, 409 USERNAME_TAKEN, 429 TOO_MANY_ATTEMPTS (with Retry-After),
   *   429 SERVER_BUSY (too many password hashes in flight).
   */
  async register(body: RegisterBody, client = "local"): Promise<AuthResult> {
    await count(this.registrations, client, "Too many registrations");
    this.invites.check(body.invite_code);
    if (this.users.findRowByName(body.username)) throw usernameTaken(body.username);
    const passwordHash = await this.passwords.hash(body.password);
    const user = this.db.transaction(() => {
      if (this.users.findRowByName(body.username)) throw usernameTaken(body.username);
      const invite = this.invites.consume(body.invite_code);
      return this.users.insert({
        username: body.username,
        email: body.email ?? null,
        passwordHash,
        role: invite.role,
        inviteCodeId: invite.id,
      });
    }).immediate();
    log.info("registered", { user: user.username, role: user.role });
    await this.registrations.reward(client, 1);
    const { token, claims } = await this.tokens.issue(user.id);
    return { token, user, claims };
  }

  /** Revokes the token with these claims until it would have expired anyway. */
  logout(claims: TokenClaims): void {
    this.revoke.run(claims.jti, claims.sub, claims.exp * 1000);
  }

  /**
   * The user behind a token. A login token's check is remembered while the database is unchanged (see
   * `checked`), so a kept-alive browser's requests cost one version read instead of two queries.
   * @throws OctoError 401 UNAUTHORIZED (missing, invalid, expired or revoked token), 401 ACCOUNT_DISABLED.
   */
  async authenticate(token: string | null | undefined): Promise<Principal> {
    if (!token) throw unauthorized();
    if (isAccessToken(token)) return this.authenticateAccessToken(token);
    const version = this.dbVersion();
    const hit = this.checked.get(token);
    if (hit) {
      if (hit.version === version && hit.principal.claims.exp * 1000 > Date.now()) return hit.principal;
      this.checked.delete(token);
    }
    const principal = await this.authenticateLogin(token);
    if (this.checked.size >= CHECKED_CACHE_SIZE) this.checked.delete(this.checked.keys().next().value!);
    this.checked.set(token, { principal, version });
    return principal;
  }

  /** A login token's principal (see {@link authenticate}), from the token and the database. */
  private async authenticateLogin(token: string): Promise<Principal> {
    const claims = await this.tokens.verify(token);
    if (!claims) throw unauthorized("Invalid or expired token", "INVALID_TOKEN");
    if (this.isRevoked.get(claims.jti)) throw unauthorized("This token was logged out", "INVALID_TOKEN");
    const row = this.users.findRow(claims.sub);
    if (!row) throw unauthorized("Invalid or expired token", "INVALID_TOKEN");
    if (row.disabled) throw unauthorized("This account is disabled", "ACCOUNT_DISABLED");
    if (claims.issuedAtMs < row.tokens_not_before) throw unauthorized("Invalid or expired token", "INVALID_TOKEN");
    return { user: toUser(row), claims };
  }

  /**
   * A personal access token's principal: the same checks of its user as a login token's (deleted, disabled,
   * password reset since the token was made), and claims with `jti` `pat_<id>` and the token's expiry.
   */
  private authenticateAccessToken(token: string): Principal {
    const { row: pat, scopes } = this.accessTokens.verify(token);
    const row = this.users.findRow(pat.user_id);
    if (!row) throw unauthorized("Invalid access token", "INVALID_TOKEN");
    if (row.disabled) throw unauthorized("This account is disabled", "ACCOUNT_DISABLED");
    if (pat.created_at < row.tokens_not_before) throw unauthorized("Invalid access token", "INVALID_TOKEN");
    const iat = Math.floor(pat.created_at / 1000);
    const exp = pat.expires_at == null ? NEVER_EXPIRES : Math.ceil(pat.expires_at / 1000);
    return { user: toUser(row), claims: { sub: row.id, jti: `pat_${pat.id}`, iat, issuedAtMs: pat.created_at, exp }, scopes };
  }

  /** Deletes revocation records of tokens that have expired anyway. @returns rows removed. */
  pruneRevoked(now = Date.now()): number {
    return this.db.query("DELETE FROM revoked_tokens WHERE expires_at <= ?").run(now).changes;
  }

  private pruneTimer: ReturnType<typeof setInterval> | null = null;

  /** Runs {@link pruneRevoked} every `intervalMs` (default hourly) until {@link stopPruning} (the server's job). */
  startPruning(intervalMs = 3_600_000): void {
    this.stopPruning();
    this.pruneTimer = setInterval(() => {
      try {
        this.pruneRevoked();
      } catch (err) {
        log.error("pruning revoked tokens failed", { error: (err as Error).message });
      }
    }, intervalMs);
    this.pruneTimer.unref?.();
  }

  stopPruning(): void {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = null;
  }
}

/**
 * Counts one attempt under `key`, before the attempt is evaluated.
 * @throws OctoError 429 TOO_MANY_ATTEMPTS with Retry-After (seconds) once the limit is used up.
 */
async function count(limiter: RateLimiterMemory, key: string, what: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (res) {
    if (!(res instanceof RateLimiterRes)) throw res;
    const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    throw new OctoError(429, "TOO_MANY_ATTEMPTS", `${what}; try again in ${seconds} s`, { "Retry-After": String(seconds) });
  }
}

const usernameTaken = (username: string) =>
  new OctoError(409, "USERNAME_TAKEN", `The username ${JSON.stringify(username)} is taken`);
