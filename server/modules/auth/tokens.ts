/**
 * Login tokens: JWT HS256 signed with the data dir's secret through @elysiajs/jwt (jose underneath).
 * Claims: `sub` (user id), `jti` (random id, used for server-side revocation on logout), `iat`, `exp`
 * (seconds since epoch; lifetime `[auth] token_ttl_seconds`, default 24 h).
 */
import { jwt } from "@elysiajs/jwt";
import { randomId } from "../../../common/ids.ts";

export interface TokenClaims {
  sub: string;
  jti: string;
  /** Issued at, seconds since epoch. */
  iat: number;
  /** Issued at, ms since epoch (claim `iat_ms`; `iat` * 1000 for tokens without it). */
  issuedAtMs: number;
  /** Expiry, seconds since epoch. */
  exp: number;
}

/** Verified tokens kept to spare the HMAC on the proxy's hot path (about 50 µs each); bounded. */
const CACHE_SIZE = 1024;

export class TokenService {
  private readonly signer;
  private readonly verified = new Map<string, TokenClaims>();

  /**
   * @param secret HMAC key (the content of `<data>/jwt-secret`).
   * @param ttlSeconds token lifetime in seconds.
   */
  constructor(secret: string, readonly ttlSeconds: number) {
    this.signer = jwt({ name: "jwt", secret, alg: "HS256" }).decorator.jwt;
  }

  /** Signs a token for `userId`. */
  async issue(userId: string): Promise<{ token: string; claims: TokenClaims }> {
    const now = Date.now();
    const iat = Math.floor(now / 1000);
    const claims: TokenClaims = { sub: userId, jti: randomId(16), iat, issuedAtMs: now, exp: iat + this.ttlSeconds };
    const token = await this.signer.sign({ sub: claims.sub, jti: claims.jti, exp: claims.exp, iat_ms: now });
    return { token, claims };
  }

  /** The claims of a valid, unexpired token with our signature, or null. Never throws. */
  async verify(token: string): Promise<TokenClaims | null> {
    if (!token || token.length > 4096) return null;
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.exp * 1000 > Date.now()) return cached;
      this.verified.delete(token);
      return null;
    }
    let claims: TokenClaims;
    try {
      const payload = await this.signer.verify(token, { algorithms: ["HS256"] });
      if (!payload || typeof payload.sub !== "string" || typeof payload.jti !== "string") return null;
      if (typeof payload.iat !== "number" || typeof payload.exp !== "number") return null;
      const issuedAtMs = typeof payload.iat_ms === "number" ? payload.iat_ms : payload.iat * 1000;
      claims = { sub: payload.sub, jti: payload.jti, iat: payload.iat, issuedAtMs, exp: payload.exp };
    } catch {
      return null;
    }
    if (this.verified.size >= CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, claims);
    return claims;
  }
}
