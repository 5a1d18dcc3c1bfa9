/**
 * One process of the cross-process invite races in `service.test.ts` (started by its `race()`).
 *
 * Opens the shared database file and builds the services over it the way `server.ts` does
 * (`authStack` over `openDatabase`), prints `ready`, waits for a line on stdin (so all racers start
 * together), runs its attempts back to back and prints one JSON array with one outcome per attempt: "ok",
 * the OctoError's code, or the message of any other error (e.g. a SQLite constraint failure).
 *
 * argv[2]: JSON `{ file, action: "consume", codes }` (InviteService.consume of each code, no transaction of
 * its own) or `{ file, action: "register", codes, usernames }` (AuthService.register of usernames[i] with
 * codes[i % codes.length]).
 */
import { openDatabase } from "../../../../server/db/database.ts";
import { OctoError } from "../../../../common/errors.ts";
import { authStack } from "../../../support/db.ts";

interface Job {
  file: string;
  action: "consume" | "register";
  codes: string[];
  usernames?: string[];
}

const job = JSON.parse(process.argv[2]!) as Job;
const stack = authStack({ database: { dir: "", file: job.file, db: openDatabase(job.file) } });
const outcome = (err: unknown) => (err instanceof OctoError ? err.code : String((err as Error)?.message ?? err));

process.stdout.write("ready\n");
for await (const _line of console) break;

const results: string[] = [];
if (job.action === "consume") {
  for (const code of job.codes) {
    try {
      stack.invites.consume(code);
      results.push("ok");
    } catch (err) {
      results.push(outcome(err));
    }
  }
} else {
  const usernames = job.usernames ?? [];
  for (let i = 0; i < usernames.length; i++) {
    try {
      await stack.auth.register({ username: usernames[i]!, password: "long enough password", invite_code: job.codes[i % job.codes.length]! });
      results.push("ok");
    } catch (err) {
      results.push(outcome(err));
    }
  }
}
process.stdout.write(`${JSON.stringify(results)}\n`);
stack.db.close();
