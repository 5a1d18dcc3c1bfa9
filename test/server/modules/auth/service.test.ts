import { describe, expect, setDefaultTimeout, setSystemTime, test } from "bun:test";
import type { TokenClaims } from "../../../../server/modules/auth/tokens.ts";
import { randomId } from "../../../../common/ids.ts";
import { authStack, quickUser, registerUser, TEST_PASSWORD } from "../../../support/db.ts";
import { octoError } from "../../../support/fakes.ts";
import { openDatabase } from "../../../../server/db/database.ts";
import { eventually } from "../../../support/eventually.ts";

// Argon2id, processes and sockets are slow on a loaded 2-core machine; `npx bun test` keeps Bun's 5 s default.
setDefaultTimeout(30_000);


describe("AuthService.register", () => {
  test("creates the user with the invite's role and returns a working token", async () => {
    const s = authStack();
    const invite = s.invites.create({ role: "admin" }, null);
    const result = await s.auth.register({ username: "root", password: TEST_PASSWORD, invite_code: invite.code, email: "root@example.com" });
    expect(result.user).toMatchObject({ username: "root", role: "admin", email: "root@example.com", disabled: false });
    expect(result.claims.sub).toBe(result.user.id);
    expect((await s.auth.authenticate(result.token)).user).toEqual(result.user);
    const row = s.users.findRow(result.user.id)!;
    expect(row.password_hash).toStartWith("$argon2id$");
    expect(row.password_hash).not.toContain(TEST_PASSWORD);
    expect(row.invite_code_id).toBe(invite.id);
  });

  test("a taken username (any case) is 409 USERNAME_TAKEN; a bad code is 400 INVALID_INVITE", async () => {
    const s = authStack();
    await registerUser(s, "alice");
    const invite = s.invites.create({}, null);
    const taken = await octoError(() => s.auth.register({ username: "alice", password: TEST_PASSWORD, invite_code: invite.code }));
    expect([taken.status, taken.code, taken.message]).toEqual([409, "USERNAME_TAKEN", 'The username "alice" is taken']);
    const bad = await octoError(() => s.auth.register({ username: "bob", password: TEST_PASSWORD, invite_code: "OCTO-NOPE" }));
    expect([bad.status, bad.code]).toEqual([400, "INVALID_INVITE"]);
    expect(s.users.count()).toBe(1);
  });

  test("the invite is checked first: a bad code is INVALID_INVITE whatever the username, and costs no hash", async () => {
    const s = authStack();
    await registerUser(s, "alice");
    let hashes = 0;
    const hash = s.auth.passwords.hash.bind(s.auth.passwords);
    s.auth.passwords.hash = (password: string) => {
      hashes++;
      return hash(password);
    };
    const taken = await octoError(() => s.auth.register({ username: "alice", password: TEST_PASSWORD, invite_code: "OCTO-NOPE" }));
    const free = await octoError(() => s.auth.register({ username: "zed", password: TEST_PASSWORD, invite_code: "OCTO-NOPE" }));
    expect(taken.toJSON()).toEqual({ error: "Invite code is invalid, expired, revoked or already used", code: "INVALID_INVITE" });
    expect(free.toJSON()).toEqual(taken.toJSON());
    expect(hashes).toBe(0);
  });

  test("registrations are counted per client before they are checked; successful ones are given back", async () => {
    const s = authStack({ registerMaxAttempts: 3 });
    const good = s.invites.create({ max_uses: 5 }, null);
    for (let i = 0; i < 4; i++) await s.auth.register({ username: `ok${i}`, password: TEST_PASSWORD, invite_code: good.code }, "10.0.0.1");
    const bad = await Promise.all(
      Array.from({ length: 6 }, () => octoError(() => s.auth.register({ username: "nope", password: TEST_PASSWORD, invite_code: "OCTO-NOPE" }, "10.0.0.1"))),
    );
    expect(bad.map((e) => e.code).sort()).toEqual(["INVALID_INVITE", "INVALID_INVITE", "INVALID_INVITE", "TOO_MANY_ATTEMPTS", "TOO_MANY_ATTEMPTS", "TOO_MANY_ATTEMPTS"]);
    const limited = await octoError(() => s.auth.register({ username: "ok9", password: TEST_PASSWORD, invite_code: good.code }, "10.0.0.1"));
    expect([limited.status, Number(limited.headers["Retry-After"]) > 0]).toEqual([429, true]);
    expect((await s.auth.register({ username: "ok9", password: TEST_PASSWORD, invite_code: good.code }, "10.0.0.2")).user.username).toBe("ok9");
  });

  test("a reused invite code is refused", async () => {
    const s = authStack();
    const invite = s.invites.create({}, null);
    await s.auth.register({ username: "first", password: TEST_PASSWORD, invite_code: invite.code });
    const again = await octoError(() => s.auth.register({ username: "second", password: TEST_PASSWORD, invite_code: invite.code }));
    expect(again.code).toBe("INVALID_INVITE");
  });
});

describe("AuthService.login", () => {
  test("the right password gives a token for the user (username case-insensitive)", async () => {
    const s = authStack();
    const { user } = await quickUser(s, "alice");
    const result = await s.auth.login({ username: "ALICE", password: TEST_PASSWORD }, "1.2.3.4");
    expect(result.user).toEqual(user);
    expect((await s.auth.authenticate(result.token)).user.id).toBe(user.id);
  });

  test("a wrong password and an unknown user get the same 401 INVALID_CREDENTIALS", async () => {
    const s = authStack();
    await quickUser(s, "alice");
    const wrong = await octoError(() => s.auth.login({ username: "alice", password: "not the password" }, "c"));
    const unknown = await octoError(() => s.auth.login({ username: "nobody", password: TEST_PASSWORD }, "c"));
    expect([wrong.status, wrong.code]).toEqual([401, "INVALID_CREDENTIALS"]);
    expect(unknown.toJSON()).toEqual(wrong.toJSON());
    expect(unknown.status).toBe(401);
  });

  test("a disabled account: 403 ACCOUNT_DISABLED on login (right password only), 401 on authenticate", async () => {
    const s = authStack();
    await quickUser(s, "root", "admin");
    const { user, token } = await quickUser(s, "bob");
    s.users.update(user.id, { disabled: true });
    const login = await octoError(() => s.auth.login({ username: "bob", password: TEST_PASSWORD }, "c"));
    expect([login.status, login.code]).toEqual([403, "ACCOUNT_DISABLED"]);
    const wrong = await octoError(() => s.auth.login({ username: "bob", password: "wrong password" }, "c"));
    expect(wrong.code).toBe("INVALID_CREDENTIALS"); // a wrong password does not reveal that the account exists
    const auth = await octoError(() => s.auth.authenticate(token));
    expect([auth.status, auth.code]).toEqual([401, "ACCOUNT_DISABLED"]);
    s.users.update(user.id, { disabled: false });
    expect((await s.auth.authenticate(token)).user.disabled).toBe(false);
  });

  test("after login_max_attempts failures: 429 TOO_MANY_ATTEMPTS with Retry-After, even with the right password", async () => {
    const s = authStack({ loginMaxAttempts: 3, loginWindowSeconds: 120 });
    await quickUser(s, "alice");
    for (let i = 0; i < 3; i++) {
      expect((await octoError(() => s.auth.login({ username: "alice", password: `wrong ${i}` }, "10.0.0.1"))).status).toBe(401);
    }
    const limited = await octoError(() => s.auth.login({ username: "alice", password: "wrong again" }, "10.0.0.1"));
    expect([limited.status, limited.code]).toEqual([429, "TOO_MANY_ATTEMPTS"]);
    const retry = Number(limited.headers["Retry-After"]);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(120);
    expect(limited.message).toContain(`try again in ${retry} s`);
    const right = await octoError(() => s.auth.login({ username: "alice", password: TEST_PASSWORD }, "10.0.0.1"));
    expect(right.status).toBe(429);
    // Keyed by username and address: the same user from elsewhere, and other users, are not throttled.
    expect((await s.auth.login({ username: "alice", password: TEST_PASSWORD }, "10.0.0.2")).user.username).toBe("alice");
    expect((await s.auth.login({ username: "ALICE", password: TEST_PASSWORD }, "10.0.0.3")).user.username).toBe("alice");
    expect((await octoError(() => s.auth.login({ username: "ALICE", password: TEST_PASSWORD }, "10.0.0.1"))).status).toBe(429);
    // Unknown users are throttled too (no oracle for which names exist).
    for (let i = 0; i < 3; i++) await octoError(() => s.auth.login({ username: "ghost", password: "x" }, "10.0.0.1"));
    expect((await octoError(() => s.auth.login({ username: "ghost", password: "x" }, "10.0.0.1"))).status).toBe(429);
  });

  test("parallel guesses are counted before they are checked: no more than login_max_attempts are evaluated", async () => {
    const s = authStack({ loginMaxAttempts: 3 });
    await quickUser(s, "alice");
    const guesses = Array.from({ length: 10 }, (_, i) => (i === 9 ? TEST_PASSWORD : `guess ${i}`));
    const errors = await Promise.all(guesses.map((password) => octoError(() => s.auth.login({ username: "alice", password }, "c"))));
    expect(errors.filter((e) => e.code === "INVALID_CREDENTIALS").length).toBe(3);
    expect(errors.filter((e) => e.code === "TOO_MANY_ATTEMPTS").length).toBe(7);
  });

  test("a successful login resets the failure count", async () => {
    const s = authStack({ loginMaxAttempts: 2 });
    await quickUser(s, "alice");
    await octoError(() => s.auth.login({ username: "alice", password: "wrong one" }, "c"));
    await s.auth.login({ username: "alice", password: TEST_PASSWORD }, "c");
    await octoError(() => s.auth.login({ username: "alice", password: "wrong two" }, "c"));
    expect((await s.auth.login({ username: "alice", password: TEST_PASSWORD }, "c")).user.username).toBe("alice");
  });

  test("the failure window ends: attempts are allowed again after login_window_seconds", async () => {
    // 3 s: the window starts with the first attempt, before its password hash, which takes over a second on
    // a loaded machine.
    const s = authStack({ loginMaxAttempts: 1, loginWindowSeconds: 3 });
    await quickUser(s, "alice");
    await octoError(() => s.auth.login({ username: "alice", password: "wrong one" }, "c"));
    const limited = await octoError(() => s.auth.login({ username: "alice", password: TEST_PASSWORD }, "c"));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers["Retry-After"])).toBeGreaterThanOrEqual(1);
    // Once the window has passed, login works.
    await Bun.sleep(3000);
    const login = await eventually(() => s.auth.login({ username: "alice", password: TEST_PASSWORD }, "c").catch(() => null), "the window to end", 10_000);
    expect(login.user.username).toBe("alice");
  });
});

describe("AuthService.authenticate / logout", () => {
  test("no token, garbage, and a token of a deleted user are 401", async () => {
    const s = authStack();
    for (const token of [undefined, null, ""]) {
      const err = await octoError(() => s.auth.authenticate(token));
      expect([err.status, err.code]).toEqual([401, "UNAUTHORIZED"]);
    }
    const garbage = await octoError(() => s.auth.authenticate("not.a.jwt"));
    expect([garbage.status, garbage.code]).toEqual([401, "INVALID_TOKEN"]);
    const { user, token } = await quickUser(s, "temp");
    s.db.query("DELETE FROM users WHERE id = ?").run(user.id);
    expect((await octoError(() => s.auth.authenticate(token))).code).toBe("INVALID_TOKEN");
  });

  test("logout revokes that token server-side (other tokens of the user keep working)", async () => {
    const s = authStack();
    await quickUser(s, "alice");
    const a = await s.auth.login({ username: "alice", password: TEST_PASSWORD }, "c");
    const b = await s.auth.login({ username: "alice", password: TEST_PASSWORD }, "c");
    const principal = await s.auth.authenticate(a.token);
    s.auth.logout(principal.claims);
    const err = await octoError(() => s.auth.authenticate(a.token));
    expect([err.status, err.code, err.message]).toEqual([401, "INVALID_TOKEN", "This token was logged out"]);
    expect((await s.auth.authenticate(b.token)).user.username).toBe("alice");
    s.auth.logout(principal.claims); // twice is fine
    const rows = s.db.query("SELECT jti, user_id, expires_at FROM revoked_tokens").all();
    expect(rows).toEqual([{ jti: principal.claims.jti, user_id: principal.user.id, expires_at: principal.claims.exp * 1000 }]);
  });

  test("a remembered check is not used once the database changed, from this connection or another process's", async () => {
    const s = authStack();
    const { user, token } = await quickUser(s, "alice");
    expect((await s.auth.authenticate(token)).user.role).toBe("user");
    expect((await s.auth.authenticate(token)).user.role).toBe("user"); // remembered
    // Another connection to the same file, as the `octo users` CLI writes it while the server runs.
    const cli = openDatabase(s.file);
    cli.query("UPDATE users SET role = 'admin' WHERE id = ?").run(user.id);
    expect((await s.auth.authenticate(token)).user.role).toBe("admin");
    cli.query("UPDATE users SET disabled = 1 WHERE id = ?").run(user.id);
    expect((await octoError(() => s.auth.authenticate(token))).code).toBe("ACCOUNT_DISABLED");
    cli.query("UPDATE users SET disabled = 0 WHERE id = ?").run(user.id);
    const principal = await s.auth.authenticate(token);
    expect(principal.user.disabled).toBe(false);
    cli.close();
    // This connection's own write (a logout) takes effect on the very next check.
    s.auth.logout(principal.claims);
    expect((await octoError(() => s.auth.authenticate(token))).message).toBe("This token was logged out");
  });

  test("a remembered check ends with its token's expiry", async () => {
    const s = authStack({ ttlSeconds: 60 });
    const { token } = await quickUser(s, "alice");
    expect((await s.auth.authenticate(token)).user.username).toBe("alice");
    setSystemTime(new Date(Date.now() + 61_000)); // past `exp`, nothing written to the database
    try {
      expect((await octoError(() => s.auth.authenticate(token))).status).toBe(401);
    } finally {
      setSystemTime();
    }
  });

  test("a revocation survives a restart (new services over the same database)", async () => {
    const s = authStack();
    await quickUser(s, "alice");
    const { token } = await s.auth.login({ username: "alice", password: TEST_PASSWORD }, "c");
    s.auth.logout((await s.auth.authenticate(token)).claims);
    const restarted = authStack({ database: s, secret: s.secret });
    expect((await octoError(() => restarted.auth.authenticate(token))).message).toBe("This token was logged out");
    // ...while the same user's other tokens still verify there.
    const other = await restarted.auth.login({ username: "alice", password: TEST_PASSWORD }, "c");
    expect((await restarted.auth.authenticate(other.token)).user.username).toBe("alice");
  });

  test("pruneRevoked deletes only records of tokens that have expired anyway", async () => {
    const s = authStack();
    const { user } = await quickUser(s, "alice");
    const now = Date.now();
    s.auth.logout({ sub: user.id, jti: "old", iat: 0, exp: Math.floor(now / 1000) - 10 } as TokenClaims);
    s.auth.logout({ sub: user.id, jti: "live", iat: 0, exp: Math.floor(now / 1000) + 3600 } as TokenClaims);
    expect(s.auth.pruneRevoked(now)).toBe(1);
    expect(s.db.query("SELECT jti FROM revoked_tokens").all()).toEqual([{ jti: "live" }]);
    expect(s.auth.pruneRevoked(now)).toBe(0);
    expect(s.auth.pruneRevoked(now + 7200_000)).toBe(1);
  });

  test("startPruning prunes on its interval until stopPruning", async () => {
    const s = authStack();
    const { user } = await quickUser(s, "alice");
    const expired = () => s.auth.logout({ sub: user.id, jti: randomId(8), iat: 0, exp: Math.floor(Date.now() / 1000) - 10 } as TokenClaims);
    const count = () => (s.db.query("SELECT COUNT(*) AS n FROM revoked_tokens").get() as { n: number }).n;
    expired();
    s.auth.startPruning(20);
    try {
      await eventually(() => count() === 0, "the expired record pruned");
    } finally {
      s.auth.stopPruning();
    }
    expired();
    await Bun.sleep(100);
    expect(count()).toBe(1);
  });
});
