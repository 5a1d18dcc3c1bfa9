import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { OctoError } from "../../../../common/errors.ts";
import { CreateInvite, type InviteRow, inviteStatus, toInvite } from "../../../../server/modules/invites/model.ts";
import { FIRST_ADMIN_NOTE, generateInviteCode, hashInviteCode, InviteService } from "../../../../server/modules/invites/service.ts";
import { authStack, quickUser, testDatabase } from "../../../support/db.ts";
import { octoError } from "../../../support/fakes.ts";

// Argon2id, processes and sockets are slow on a loaded 2-core machine; `npx bun test` keeps Bun's 5 s default.
setDefaultTimeout(30_000);

const CODE = /^OCTO-[A-HJKMNP-Z2-9]{4}(-[A-HJKMNP-Z2-9]{4}){5}$/;


/** An InviteService over a new temporary database. */
function inviteDb() {
  const t = testDatabase();
  return { ...t, invites: new InviteService(t.db) };
}


describe("invite codes", () => {
  test("generateInviteCode: OCTO- and six groups of four unambiguous symbols, never repeating", () => {
    const codes = Array.from({ length: 500 }, generateInviteCode);
    for (const code of codes) expect(code).toMatch(CODE);
    expect(new Set(codes).size).toBe(codes.length);
    // No look-alikes (0/O, 1/I/L) anywhere in the random part.
    expect(codes.join("").replaceAll("OCTO-", "")).not.toMatch(/[01OIL]/);
  });

  test("hashInviteCode normalises case and whitespace, and is a SHA-256 hex digest", () => {
    const code = "OCTO-ABCD-EFGH-JKMN-PQRS-TUVW-XYZ2";
    const hash = hashInviteCode(code);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashInviteCode(` ${code.toLowerCase()}\n`)).toBe(hash);
    expect(hashInviteCode("octo-ab cd-efgh-jkmn-pqrs-tuvw-xyz2")).toBe(hash);
    expect(hashInviteCode(code.replace("XYZ2", "XYZ3"))).not.toBe(hash);
  });

  test("create returns the code once with defaults: 1 use, role user, no expiry, active", () => {
    const { invites } = inviteDb();
    const created = invites.create({}, null);
    expect(created.code).toMatch(CODE);
    expect(created).toMatchObject({ role: "user", max_uses: 1, uses: 0, expires_at: null, note: null, created_by: null, revoked_at: null, status: "active" });
    const { code: _shownOnce, ...rest } = created;
    const stored = invites.get(created.id);
    expect("code" in stored).toBe(false);
    expect(stored).toEqual(rest);
  });

  test("create stores role, max_uses, note, creator and an expiry in the future", async () => {
    const s = authStack();
    const { user } = await quickUser(s, "root", "admin");
    const before = Date.now();
    const created = s.invites.create({ role: "admin", max_uses: 5, note: "for the team", expires_in_seconds: 3600 }, user.id);
    expect(created).toMatchObject({ role: "admin", max_uses: 5, note: "for the team", created_by: user.id, status: "active" });
    const expires = Date.parse(created.expires_at!);
    expect(expires).toBeGreaterThanOrEqual(before + 3600_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000);
  });

  test("only a hash is stored: the plain code appears nowhere in the database files", () => {
    const { invites, db, dir, file } = inviteDb();
    const codes = [invites.create({}, null).code, invites.create({ max_uses: 3 }, null).code];
    const hashes = (db.query("SELECT code_hash FROM invite_codes").all() as { code_hash: string }[]).map((r) => r.code_hash);
    expect(hashes.sort()).toEqual(codes.map(hashInviteCode).sort());
    const check = () => {
      const bytes = readdirSync(dir)
        .filter((f) => f.startsWith("octo.db"))
        .map((f) => readFileSync(join(dir, f)).toString("latin1"))
        .join("");
      expect(bytes.length).toBeGreaterThan(0);
      for (const code of codes) {
        expect(bytes).not.toContain(code);
        expect(bytes).not.toContain(code.slice(5)); // not even without the prefix
      }
      for (const hash of hashes) expect(bytes).toContain(hash);
    };
    check(); // in the WAL
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    check(); // in the main file
    expect(file.endsWith("octo.db")).toBe(true);
  });

  test("consume counts uses up to max_uses, then refuses; input is normalised", async () => {
    const { invites } = inviteDb();
    const { id, code } = invites.create({ max_uses: 3, role: "admin" }, null);
    expect(invites.consume(code)).toEqual({ id, role: "admin" });
    expect(invites.get(id)).toMatchObject({ uses: 1, status: "active" });
    expect(invites.consume(`  ${code.toLowerCase()} `).id).toBe(id);
    expect(invites.get(id).uses).toBe(2);
    invites.consume(code);
    expect(invites.get(id)).toMatchObject({ uses: 3, status: "used_up" });
    const err = await octoError(() => invites.consume(code));
    expect([err.status, err.code]).toEqual([400, "INVALID_INVITE"]);
    expect(invites.get(id).uses).toBe(3);
  });

  test("unknown, revoked, expired and used-up codes all get the same answer", async () => {
    const { invites, db } = inviteDb();
    const used = invites.create({}, null);
    invites.consume(used.code);
    const revoked = invites.create({}, null);
    invites.revoke(revoked.id);
    const expired = invites.create({ expires_in_seconds: 3600 }, null);
    db.query("UPDATE invite_codes SET expires_at = ? WHERE id = ?").run(Date.now() - 1, expired.id);
    const codes = [used.code, revoked.code, expired.code, generateInviteCode(), "garbage", ""];
    const messages = await Promise.all(codes.map(async (code) => (await octoError(() => invites.consume(code))).toJSON()));
    expect(new Set(messages.map((m) => JSON.stringify(m))).size).toBe(1);
    expect(messages[0]).toEqual({ error: "Invite code is invalid, expired, revoked or already used", code: "INVALID_INVITE" });
    expect(invites.get(revoked.id).uses).toBe(0);
    expect(invites.get(expired.id).uses).toBe(0);
  });

  test("a code that expires while unused stops working at its expiry", async () => {
    const { invites } = inviteDb();
    const { id, code } = invites.create({ expires_in_seconds: 1 }, null);
    expect(invites.get(id).status).toBe("active");
    await Bun.sleep(1050);
    expect(invites.get(id).status).toBe("expired");
    expect((await octoError(() => invites.consume(code))).code).toBe("INVALID_INVITE");
  });

  test("revoke is idempotent (keeps the first time) and 404s unknown ids", async () => {
    const { invites } = inviteDb();
    const { id } = invites.create({}, null);
    const first = invites.revoke(id);
    expect(first.status).toBe("revoked");
    expect(first.revoked_at).not.toBeNull();
    await Bun.sleep(5);
    expect(invites.revoke(id).revoked_at).toBe(first.revoked_at);
    const err = await octoError(() => invites.revoke("missing"));
    expect([err.status, err.code]).toEqual([404, "INVITE_NOT_FOUND"]);
    expect((await octoError(() => invites.get("missing"))).code).toBe("INVITE_NOT_FOUND");
  });

  test("list: newest first with statuses; activeOnly keeps usable codes", async () => {
    const { invites, db } = inviteDb();
    const a = invites.create({ note: "a" }, null);
    await Bun.sleep(2);
    const b = invites.create({ note: "b" }, null);
    await Bun.sleep(2);
    const c = invites.create({ note: "c", expires_in_seconds: 60 }, null);
    await Bun.sleep(2);
    const d = invites.create({ note: "d", max_uses: 2 }, null);
    invites.consume(a.code);
    invites.revoke(b.id);
    db.query("UPDATE invite_codes SET expires_at = ? WHERE id = ?").run(Date.now() - 1000, c.id);
    invites.consume(d.code);
    expect(invites.list().map((i) => [i.note, i.status, i.uses])).toEqual([
      ["d", "active", 1],
      ["c", "expired", 0],
      ["b", "revoked", 0],
      ["a", "used_up", 1],
    ]);
    expect(invites.list({ activeOnly: true }).map((i) => i.note)).toEqual(["d"]);
    for (const invite of invites.list()) expect("code" in invite).toBe(false);
  });
});

describe("invite model", () => {
  const row = (over: Partial<InviteRow> = {}): InviteRow => ({
    id: "i1",
    code_hash: "h",
    role: "user",
    max_uses: 2,
    uses: 0,
    expires_at: null,
    note: null,
    created_by: null,
    created_at: 0,
    revoked_at: null,
    ...over,
  });

  test("inviteStatus precedence: revoked, then expired, then used_up", () => {
    const now = 1_000_000;
    expect(inviteStatus(row(), now)).toBe("active");
    expect(inviteStatus(row({ uses: 2 }), now)).toBe("used_up");
    expect(inviteStatus(row({ expires_at: now }), now)).toBe("expired");
    expect(inviteStatus(row({ expires_at: now + 1 }), now)).toBe("active");
    expect(inviteStatus(row({ uses: 2, expires_at: now - 1 }), now)).toBe("expired");
    expect(inviteStatus(row({ uses: 2, expires_at: now - 1, revoked_at: 5 }), now)).toBe("revoked");
  });

  test("toInvite gives ISO times and never the hash", () => {
    const invite = toInvite(row({ created_at: Date.UTC(2026, 0, 1), expires_at: Date.UTC(2026, 0, 8), revoked_at: null }), Date.UTC(2026, 0, 2));
    expect(invite).toEqual({
      id: "i1",
      role: "user",
      max_uses: 2,
      uses: 0,
      expires_at: "2026-01-08T00:00:00.000Z",
      note: null,
      created_by: null,
      created_at: "2026-01-01T00:00:00.000Z",
      revoked_at: null,
      status: "active",
    });
  });

  test("CreateInvite bounds its fields and refuses unknown ones", () => {
    expect(CreateInvite.safeParse({}).success).toBe(true);
    expect(CreateInvite.safeParse({ max_uses: 0 }).success).toBe(false);
    expect(CreateInvite.safeParse({ max_uses: 1.5 }).success).toBe(false);
    expect(CreateInvite.safeParse({ max_uses: 100_001 }).success).toBe(false);
    expect(CreateInvite.safeParse({ expires_in_seconds: 0 }).success).toBe(false);
    expect(CreateInvite.safeParse({ role: "root" }).success).toBe(false);
    expect(CreateInvite.safeParse({ note: "x".repeat(501) }).success).toBe(false);
    expect(CreateInvite.safeParse({ uses: 3 }).success).toBe(false);
  });
});

/** Outcomes of each racer, in order: one array per process (see race-worker.ts). */
type RaceJob = { action: "consume"; codes: string[] } | { action: "register"; codes: string[]; usernames: string[] };

/**
 * Runs one real process per job against the database `file`: all open it, say ready, and start together
 * when told to. Answers each process's outcomes ("ok", an OctoError code, or another error's message).
 */
async function race(file: string, jobs: RaceJob[]): Promise<string[][]> {
  const worker = resolve(import.meta.dir, "race-worker.ts");
  const procs = jobs.map((job) =>
    Bun.spawn([process.execPath, worker, JSON.stringify({ file, ...job })], { env: { ...process.env }, stdin: "pipe", stdout: "pipe", stderr: "inherit" }),
  );
  const lines = procs.map((p) => {
    const reader = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    return async (): Promise<string> => {
      for (;;) {
        const end = buffered.indexOf("\n");
        if (end >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 1);
          return line;
        }
        const { done, value } = await reader.read();
        if (done) throw new Error(`a racer exited early: ${buffered}`);
        buffered += value;
      }
    };
  });
  expect(await Promise.all(lines.map((next) => next()))).toEqual(jobs.map(() => "ready"));
  for (const p of procs) p.stdin.write("go\n");
  for (const p of procs) await p.stdin.flush();
  const outcomes = await Promise.all(lines.map(async (next) => JSON.parse(await next()) as string[]));
  expect(await Promise.all(procs.map((p) => p.exited))).toEqual(jobs.map(() => 0));
  return outcomes;
}

const tally = (outcomes: string[]) => outcomes.reduce<Record<string, number>>((t, o) => ({ ...t, [o]: (t[o] ?? 0) + 1 }), {});

describe("invite consumption is atomic across processes", () => {
  test("processes consuming the same codes at once (no transaction of their own): each use is given exactly once", async () => {
    // consume() is one conditional UPDATE, so it needs no surrounding transaction. Four processes try each
    // of 1500 one-use codes and 100 three-use codes in the same order, as fast as they can: whoever falls
    // behind catches up (refusals are cheaper than uses), so they keep meeting on the same code.
    const { invites, db, file } = inviteDb();
    const created = db.transaction(() => [
      ...Array.from({ length: 1500 }, () => invites.create({}, null)),
      ...Array.from({ length: 100 }, () => invites.create({ max_uses: 3 }, null)),
    ])();
    const racers = 4;
    const outcomes = await race(file, Array.from({ length: racers }, () => ({ action: "consume" as const, codes: created.map((i) => i.code) })));
    const wrong = created.flatMap((invite, index) => {
      const perCode = tally(outcomes.map((o) => o[index]!));
      const uses = invites.get(invite.id).uses;
      const right = perCode.ok === invite.max_uses && perCode.INVALID_INVITE === racers - invite.max_uses && uses === invite.max_uses;
      return right ? [] : [{ index, max_uses: invite.max_uses, uses, ...perCode }];
    });
    expect(wrong).toEqual([]);
  }, 60_000);

  test("processes registering against one database file: a 5-use code gives exactly 5 users, the rest INVALID_INVITE", async () => {
    // The whole registration path across processes (the interleaving itself is proven above: argon2id
    // hashing, about 100 ms, keeps registrations from meeting inside their few-microsecond transaction).
    const base = testDatabase();
    const s = authStack({ database: base });
    const invite = s.invites.create({ max_uses: 5 }, null);
    const jobs = Array.from({ length: 4 }, (_, w) => ({
      action: "register" as const,
      codes: [invite.code],
      usernames: [0, 1].map((i) => `racer${w}x${i}`),
    }));
    const outcomes = (await race(base.file, jobs)).flat();
    expect(tally(outcomes)).toEqual({ ok: 5, INVALID_INVITE: 3 });
    expect(s.users.count()).toBe(5);
    const rows = s.db.query("SELECT invite_code_id FROM users").all() as { invite_code_id: string }[];
    expect(rows.every((r) => r.invite_code_id === invite.id)).toBe(true);
    expect(s.invites.get(invite.id)).toMatchObject({ uses: 5, status: "used_up" });
  }, 60_000);

  test("a registration whose user cannot be written after its code was consumed gives the use back", async () => {
    const s = authStack();
    const invite = s.invites.create({}, null);
    // The insert of the user fails after consume() ran (as a full disk or a constraint would), inside the
    // registration: a trigger on this connection refuses one username.
    s.db.exec(`CREATE TEMP TRIGGER refuse_doomed BEFORE INSERT ON users WHEN NEW.username = 'doomed'
               BEGIN SELECT RAISE(ABORT, 'injected: cannot write the user'); END`);
    const failed = await s.auth.register({ username: "doomed", password: "long enough password", invite_code: invite.code }).then(
      () => null,
      (err: Error) => err,
    );
    expect(failed?.message).toContain("injected: cannot write the user");
    expect(s.users.count()).toBe(0);
    expect(s.invites.get(invite.id)).toMatchObject({ uses: 0, status: "active" });
    // The use really is back: the same one-use code still registers someone.
    await s.auth.register({ username: "lucky", password: "long enough password", invite_code: invite.code });
    expect(s.invites.get(invite.id)).toMatchObject({ uses: 1, status: "used_up" });
  });

  test("a taken username is refused before the code is used", async () => {
    const s = authStack();
    const first = s.invites.create({}, null);
    await s.auth.register({ username: "taken", password: "long enough password", invite_code: first.code });
    const second = s.invites.create({}, null);
    const error = await octoError(s.auth.register({ username: "taken", password: "long enough password", invite_code: second.code }));
    expect([error.status, error.code]).toEqual([409, "USERNAME_TAKEN"]);
    expect(s.invites.get(second.id)).toMatchObject({ uses: 0, status: "active" });
    expect(s.users.count()).toBe(1);
  });
});

describe("one user only (local mode without a sandbox)", () => {
  test("the first account may register; after it, no invite code is made and none is accepted", async () => {
    const t = testDatabase();
    const invites = new InviteService(t.db, { singleUser: true });
    const first = invites.create({ role: "admin", max_uses: 2 }, null);
    expect(invites.consume(first.code).role).toBe("admin");
    t.db.query("INSERT INTO users (id, username, password_hash, role, created_at, updated_at) VALUES ('u1', 'alice', 'h', 'admin', 1, 1)").run();
    for (const attempt of [() => invites.create({ role: "user" }, null), () => invites.consume(first.code)]) {
      const err = (() => {
        try {
          attempt();
        } catch (e) {
          return e as OctoError;
        }
        return null;
      })();
      expect([err?.status, err?.code]).toEqual([403, "SINGLE_USER_MODE"]);
      expect(err!.message).toContain("apt install bubblewrap");
      expect(err!.message).toContain("allow_unsandboxed_multi_user");
    }
    // Nothing was used by the refusals.
    expect(invites.get(first.id).uses).toBe(1);
    // The same database shared knowingly: both work.
    const shared = new InviteService(t.db);
    expect(shared.consume(shared.create({ role: "user" }, null).code).role).toBe("user");
  });
});

describe("InviteService.firstAdminInvite", () => {
  test("with no account: a one-use admin code for 7 days, earlier ones revoked, each step audited; none once an account exists", async () => {
    const s = authStack();
    const first = s.invites.firstAdminInvite(s.audit)!;
    expect(first).toMatch(CODE);
    const second = s.invites.firstAdminInvite(s.audit)!;
    expect(second).not.toBe(first);
    const active = s.invites.list({ activeOnly: true });
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({ role: "admin", max_uses: 1, note: FIRST_ADMIN_NOTE });
    const days = (Date.parse(active[0]!.expires_at!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);
    const actions = s.audit.list({ limit: 10 }).events.map((e) => [e.action, e.detail?.via]);
    expect(actions).toEqual([
      ["invite.create", "server"],
      ["invite.revoke", "server"],
      ["invite.create", "server"],
    ]);
    await s.auth.register({ username: "root", password: "correct horse battery", invite_code: second });
    expect(s.invites.firstAdminInvite(s.audit)).toBeNull();
    expect(s.invites.list({ activeOnly: true })).toEqual([]);
  });
});
