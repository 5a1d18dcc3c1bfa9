/**
 * Open connections tied to the login they were admitted with, so that revoking the login closes them too
 * (pattern: JupyterHub revokes server-side; here the long-lived connections follow). Every proxied request
 * (plain HTTP, server-sent events) and every proxied WebSocket registers with {@link LiveConnections.add}
 * until it ends; {@link LiveConnections.revalidate} re-runs the token check of each one
 * (`AuthService.authenticate`: signature, expiry, logout, user deleted or disabled, password reset) and
 * closes the connections whose token no longer passes or whose user's role changed since they opened.
 * {@link LiveConnections.closeExpired} closes the ones whose token expired, without touching the database.
 * `server/access-watch.ts` decides when to call them.
 */
import { createLogger } from "../../common/log.ts";
import type { AuthService, Principal } from "../modules/auth/service.ts";

const log = createLogger("connections");

/** Why a connection was closed (for the log). */
export type CloseReason = "expired" | "revoked" | "role-changed";

interface Held {
  token: string;
  userId: string;
  role: string;
  /** Token expiry, ms since epoch. */
  expiresAt: number;
  close(reason: CloseReason): void;
}

export class LiveConnections {
  private readonly open = new Set<Held>();

  constructor(private readonly auth: AuthService) {}

  /**
   * Ties a connection to the login it was admitted with.
   * @param close ends the connection (destroys its sockets); called at most once.
   * @returns the release function: call it when the connection ends by itself.
   */
  add(admitted: Principal & { token: string }, close: (reason: CloseReason) => void): () => void {
    let closed = false;
    const held: Held = {
      token: admitted.token,
      userId: admitted.user.id,
      role: admitted.user.role,
      expiresAt: admitted.claims.exp * 1000,
      close: (reason) => {
        if (closed) return;
        closed = true;
        this.open.delete(held);
        log.info("connection closed", { user: admitted.user.username, reason });
        close(reason);
      },
    };
    this.open.add(held);
    return () => {
      closed = true;
      this.open.delete(held);
    };
  }

  /** Number of open connections. */
  get size(): number {
    return this.open.size;
  }

  /** Closes the connections whose token has expired at `now` (ms). @returns how many were closed. */
  closeExpired(now = Date.now()): number {
    let n = 0;
    for (const held of [...this.open]) {
      if (held.expiresAt <= now) {
        held.close("expired");
        n++;
      }
    }
    return n;
  }

  /**
   * Checks every open connection's token again (once per distinct token) and closes those refused, or whose
   * user's role is no longer the one they opened with. @returns how many were closed.
   */
  async revalidate(): Promise<number> {
    const byToken = new Map<string, Held[]>();
    for (const held of this.open) {
      const list = byToken.get(held.token);
      if (list) list.push(held);
      else byToken.set(held.token, [held]);
    }
    let n = 0;
    for (const [token, list] of byToken) {
      let role: string | null = null;
      try {
        role = (await this.auth.authenticate(token)).user.role;
      } catch {
        role = null;
      }
      for (const held of list) {
        if (role === held.role) continue;
        held.close(role === null ? "revoked" : "role-changed");
        n++;
      }
    }
    return n;
  }
}
