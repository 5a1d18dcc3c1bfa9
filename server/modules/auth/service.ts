/**
 * Authentication: login, registration with an invite code, logout (server-side revocation), and turning a
 * token into the current user for every API call and every proxied request.
 *
 * Passwords are hashed with argon2id (`Bun.password`). Failed logins are throttled per username+client
 * address with rate-limiter-flexible (`[auth] login_max_attempts` per `login_window_seconds`).
 */
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { Database } from "../../db/database.ts";
import { OctoError, unauthorized } from "../../errors.ts";
import { createLogger } from "../../log.ts";
import type { InviteService } from "../invites/service.ts";
import { toUser, type User } from "../users/model.ts";
import type { UserService } from "../users/service.ts";
import type { LoginBody, RegisterBody } from "./model.ts";
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
};

export interface AuthOptions {
  loginMaxAttempts: number;
  loginWindowSeconds: number;
}

export class AuthService {
  private readonly failures: RateLimiterMemory;
  /** A real argon2id hash to verify against when the user does not exist, so timing does not reveal it. */
  private readonly dummyHash = Bun.password.hash("octo-timing-equaliser", { algorithm: "argon2id" });
  private readonly isRevoked;
  private readonly revoke;

  constructor(
    private readonly db: Database,
    private readonly users: UserService,
    private readonly invites: InviteService,
    readonly tokens: TokenService,
    options: AuthOptions,
  ) {
    this.failures = new RateLimiterMemory({ points: options.loginMaxAttempts, duration: options.loginWindowSeconds });
    this.isRevoked = db.query("SELECT 1 AS hit FROM revoked_tokens WHERE jti = ?");
    this.revoke = db.query("INSERT OR IGNORE INTO revoked_tokens (jti, user_id, expires_at) VALUES (?, ?, ?)");
  }

  /**
   * Checks a username and password.
   * @param client the caller's address, for throttling.
   * @throws OctoError 401 INVALID_CREDENTIALS, 403 ACCOUNT_DISABLED, 429 TOO_MANY_ATTEMPTS (with Retry-After).
   */
  async login(body: LoginBody, client: string): Promise<AuthResult> {
    const key = `${body.username.toLowerCase()}|${client}`;
    const state = await this.failures.get(key);
    if (state && state.remainingPoints <= 0) throw tooMany(state);

    const row = this.users.findRowByName(body.username);
    const ok = await Bun.password.verify(body.password, row?.password_hash ?? (await this.dummyHash));
    if (!row || !ok) {
      try {
        await this.failures.consume(key);
      } catch (res) {
        if (res instanceof RateLimiterRes) throw tooMany(res);
        throw res;
      }
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
   * Creates an account with an invite code; the code's use and the new user are one transaction.
   * @throws OctoError 400 INVALID_INVITE, 409 USERNAME_TAKEN.
   */
  async register(body: RegisterBody): Promise<AuthResult> {
    const passwordHash = await Bun.password.hash(body.password, { algorithm: "argon2id" });
    const user = this.db.transaction(() => {
      if (this.users.findRowByName(body.username)) {
        throw new OctoError(409, "USERNAME_TAKEN", `The username ${JSON.stringify(body.username)} is taken`);
      }
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
    const { token, claims } = await this.tokens.issue(user.id);
    return { token, user, claims };
  }

  /** Revokes the token with these claims until it would have expired anyway. */
  logout(claims: TokenClaims): void {
    this.revoke.run(claims.jti, claims.sub, claims.exp * 1000);
  }

  /**
   * The user behind a token.
   * @throws OctoError 401 UNAUTHORIZED (missing, invalid, expired or revoked token), 401 ACCOUNT_DISABLED.
   */
  async authenticate(token: string | null | undefined): Promise<Principal> {
    if (!token) throw unauthorized();
    const claims = await this.tokens.verify(token);
    if (!claims) throw unauthorized("Invalid or expired token", "INVALID_TOKEN");
    if (this.isRevoked.get(claims.jti)) throw unauthorized("This token was logged out", "INVALID_TOKEN");
    const row = this.users.findRow(claims.sub);
    if (!row) throw unauthorized("Invalid or expired token", "INVALID_TOKEN");
    if (row.disabled) throw unauthorized("This account is disabled", "ACCOUNT_DISABLED");
    if (claims.issuedAtMs < row.tokens_not_before) throw unauthorized("Invalid or expired token", "INVALID_TOKEN");
    return { user: toUser(row), claims };
  }

  /** Deletes revocation records of tokens that have expired anyway. @returns rows removed. */
  pruneRevoked(now = Date.now()): number {
    return this.db.query("DELETE FROM revoked_tokens WHERE expires_at <= ?").run(now).changes;
  }
}

function tooMany(res: RateLimiterRes): OctoError {
  const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new OctoError(429, "TOO_MANY_ATTEMPTS", `Too many failed logins; try again in ${seconds} s`, {
    "Retry-After": String(seconds),
  });
}
