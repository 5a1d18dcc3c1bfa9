/**
 * One process opening a database file the way octo does (`openDatabase`), for the concurrent-upgrade test in
 * `database.test.ts`: prints `opening`, opens (migrating), prints the resulting `user_version`, or the error
 * message with exit code 1.
 *
 * argv[2]: the database file.
 */
import { openDatabase } from "../../../server/db/database.ts";

process.stdout.write("opening\n");
try {
  const db = openDatabase(process.argv[2]!);
  process.stdout.write(`${(db.query("PRAGMA user_version").get() as { user_version: number }).user_version}\n`);
  db.close();
} catch (err) {
  process.stdout.write(`${(err as Error).message}\n`);
  process.exit(1);
}
