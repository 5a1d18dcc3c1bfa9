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

/** Applies every migration above the database's `user_version`, each in one transaction. */
export function migrate(db: Database): void {
  const current = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${current} is newer than this octo supports (${MIGRATIONS.length}); upgrade octo`,
    );
  }
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version - 1]!);
      db.exec(`PRAGMA user_version = ${version}`);
    }).immediate();
  }
}
