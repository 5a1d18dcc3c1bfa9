/**
 * The SQLite database (bun:sqlite; better-sqlite3's API style: `prepare().run/get/all`, `transaction`).
 *
 * Opened with WAL journaling (readers never block the writer, a crash loses no committed transaction),
 * `synchronous = NORMAL` (durable in WAL mode across application crashes), foreign keys on and a 5 s busy
 * timeout so the `octo` CLI can write while the server runs. Migrations from `migrations.ts` are applied at
 * open. The file is created with mode 0600.
 */
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { MIGRATIONS } from "./migrations.ts";

export type { Database };

/**
 * Opens (creating if needed) the database at `file` and migrates it to the latest version.
 * @param file path of the SQLite file, or ":memory:".
 * @throws Error when the file is from a newer octo (its user_version is above what this build knows).
 */
export function openDatabase(file: string): Database {
  const fresh = file !== ":memory:" && !existsSync(file);
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file, { create: true, strict: true });
  if (fresh) chmodSync(file, 0o600);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA busy_timeout = 5000");
  try {
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Applies every migration above the database's `user_version` in ONE immediate transaction together with the
 * version bump, so an upgrade across several releases is all or nothing: a failure (or a crash) leaves the
 * database exactly as the earlier release left it. The version is read inside that transaction, so a second
 * process opening the same file at the same time (octo serve and the `octo` CLI) waits for the first and then
 * finds nothing to do, instead of applying the same migrations again.
 * @param migrations the list to apply (default {@link MIGRATIONS}; tests pass others).
 * @throws Error when the database is newer than `migrations`, or the error of the migration that failed.
 */
export function migrate(db: Database, migrations: readonly string[] = MIGRATIONS): void {
  db.transaction(() => {
    const current = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
    if (current > migrations.length) {
      throw new Error(
        `database schema version ${current} is newer than this octo supports (${migrations.length}); upgrade octo`,
      );
    }
    if (current === migrations.length) return;
    for (let version = current + 1; version <= migrations.length; version++) db.exec(migrations[version - 1]!);
    db.exec(`PRAGMA user_version = ${migrations.length}`);
  }).immediate();
}

/**
 * The WHERE clause of a query built from optional filters: each {@link Where.and} adds one condition with the
 * values of its `?` placeholders, in order; `${where}` in the SQL is `WHERE a AND b`, or nothing when no
 * condition was added; `.all(...where.params)` binds them.
 */
export class Where {
  readonly params: Array<string | number> = [];
  private readonly conditions: string[] = [];

  /** Adds `condition` (e.g. `"time >= ?"`), whose placeholders take `values`. */
  and(condition: string, ...values: Array<string | number>): this {
    this.conditions.push(condition);
    this.params.push(...values);
    return this;
  }

  toString(): string {
    return this.conditions.length ? `WHERE ${this.conditions.join(" AND ")}` : "";
  }
}
