/**
 * Versioned schema migrations. Migration N (1-based) brings the database from `PRAGMA user_version = N-1`
 * to N. `migrate()` (database.ts) runs all pending ones in one transaction with the version bump, so a failed
 * or interrupted upgrade leaves the database as the earlier release left it. Never edit a released migration:
 * append a new one. A data dir made by every earlier release is upgraded by test/upgrade/.
 *
 * Times are integer milliseconds since the Unix epoch. Ids are random text (see `ids.ts`).
 */
export const MIGRATIONS: readonly string[] = [
  // 1: users, invite codes, revoked tokens, sessions
  `
  CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email         TEXT,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    invite_code_id TEXT REFERENCES invite_codes(id) ON DELETE SET NULL,
    tokens_not_before INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
  );

  CREATE TABLE invite_codes (
    id          TEXT PRIMARY KEY,
    code_hash   TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    max_uses    INTEGER NOT NULL CHECK (max_uses >= 1),
    uses        INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses),
    expires_at  INTEGER,
    note        TEXT,
    created_by  TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
  );

  CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL
  );
  CREATE INDEX revoked_tokens_expires ON revoked_tokens(expires_at);

  CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'starting', 'running', 'stopping', 'stopped', 'failed')),
    error         TEXT,
    runtime       TEXT NOT NULL CHECK (runtime IN ('local', 'container')),
    runtime_state TEXT NOT NULL DEFAULT '{}',
    secret        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    started_at    INTEGER,
    stopped_at    INTEGER
  );
  CREATE INDEX sessions_user ON sessions(user_id);
  `,
  // 2: the unprivileged uid a local session runs as when octo is root (server/runtime/sandbox.ts)
  `
  ALTER TABLE sessions ADD COLUMN run_uid INTEGER;
  CREATE UNIQUE INDEX sessions_run_uid ON sessions(run_uid) WHERE run_uid IS NOT NULL;
  `,
  // 3: the audit log (server/modules/audit). Append-only: UPDATE is always refused, DELETE only for rows older
  // than audit_prune_gate.before, which the retention pruner sets and resets inside its own transaction.
  // Actor and target names are copied in, with no foreign keys: an audit record outlives what it names.
  `
  CREATE TABLE audit_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    time           INTEGER NOT NULL,
    actor_id       TEXT,
    actor_name     TEXT,
    action         TEXT NOT NULL,
    target_type    TEXT,
    target_id      TEXT,
    target_name    TEXT,
    client_address TEXT,
    detail         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
  );
  CREATE INDEX audit_events_time ON audit_events(time);
  CREATE INDEX audit_events_action ON audit_events(action);

  CREATE TABLE audit_prune_gate (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    before INTEGER NOT NULL
  );
  INSERT INTO audit_prune_gate (id, before) VALUES (1, 0);

  CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
  BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
  END;
  CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
  WHEN OLD.time >= (SELECT before FROM audit_prune_gate WHERE id = 1)
  BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: rows are removed only by retention pruning');
  END;
  `,
  // swarm mode (issue 18, server/runtime/swarm.ts): sessions.runtime may be 'swarm'. SQLite cannot change a
  // CHECK in place, so the table is rebuilt with every column it has at this point (nothing references it).
  // A migration that adds a sessions column must come after this one.
  `
  CREATE TABLE sessions_swarm (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'starting', 'running', 'stopping', 'stopped', 'failed')),
    error         TEXT,
    runtime       TEXT NOT NULL CHECK (runtime IN ('local', 'container', 'swarm')),
    runtime_state TEXT NOT NULL DEFAULT '{}',
    secret        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    started_at    INTEGER,
    stopped_at    INTEGER,
    run_uid       INTEGER
  );
  INSERT INTO sessions_swarm (id, user_id, name, status, error, runtime, runtime_state, secret, created_at, updated_at, started_at, stopped_at, run_uid)
    SELECT id, user_id, name, status, error, runtime, runtime_state, secret, created_at, updated_at, started_at, stopped_at, run_uid FROM sessions;
  DROP TABLE sessions;
  ALTER TABLE sessions_swarm RENAME TO sessions;
  CREATE INDEX sessions_user ON sessions(user_id);
  CREATE UNIQUE INDEX sessions_run_uid ON sessions(run_uid) WHERE run_uid IS NOT NULL;
  `,
  // session lifecycle (issue 13, server/modules/sessions/lifecycle.ts): when a person last used a session
  // (written at most every 30 s per session), why it was last stopped by octo itself ("idle", "lifetime"),
  // and an admin's per-user overrides of [sessions] idle_timeout_seconds and max_lifetime_seconds (NULL = the
  // server's setting).
  `
  ALTER TABLE sessions ADD COLUMN last_activity_at INTEGER;
  ALTER TABLE sessions ADD COLUMN stop_reason TEXT CHECK (stop_reason IN ('idle', 'lifetime'));
  ALTER TABLE users ADD COLUMN idle_timeout_seconds INTEGER CHECK (idle_timeout_seconds >= 0);
  ALTER TABLE users ADD COLUMN max_lifetime_seconds INTEGER CHECK (max_lifetime_seconds >= 0);
  `,
  // personal access tokens (server/modules/tokens): only the SHA-256 of a token is stored, found by its id
  `
  CREATE TABLE access_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    scopes       TEXT NOT NULL CHECK (json_valid(scopes)),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
  );
  CREATE INDEX access_tokens_user ON access_tokens(user_id);
  `,
  // tasks (server/modules/tasks): the queue, in creation order (rowid breaks ties), and each task's outcome
  // (session_id has no foreign key: a migration that rebuilds sessions, as swarm mode's does, would null it)
  `
  CREATE TABLE tasks (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status              TEXT NOT NULL CHECK (status IN ('queued', 'starting', 'running', 'waiting', 'succeeded', 'failed', 'cancelled')),
    title               TEXT,
    prompt              TEXT NOT NULL,
    model               TEXT,
    agent               TEXT,
    session_id          TEXT,
    opencode_session_id TEXT,
    webhook_url         TEXT,
    schedule_id         TEXT,
    pending             TEXT CHECK (pending IS NULL OR json_valid(pending)),
    result              TEXT CHECK (result IS NULL OR json_valid(result)),
    error               TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    started_at          INTEGER,
    finished_at         INTEGER
  );
  CREATE INDEX tasks_user ON tasks(user_id, created_at);
  CREATE INDEX tasks_status ON tasks(status, created_at);
  `,
  // webhooks (server/modules/webhooks): endpoints with their signing secret sealed by the vault, each user's
  // secret for per-task webhook_url deliveries, and every delivery with its attempts and last answer
  `
  CREATE TABLE webhook_endpoints (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    url           TEXT NOT NULL,
    events        TEXT NOT NULL CHECK (json_valid(events)),
    secret_sealed TEXT NOT NULL,
    created_at    INTEGER NOT NULL
  );
  CREATE INDEX webhook_endpoints_user ON webhook_endpoints(user_id);

  CREATE TABLE webhook_task_secrets (
    user_id       TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    created_at    INTEGER NOT NULL
  );

  CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint_id     TEXT REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    task_id         TEXT,
    url             TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL CHECK (json_valid(payload)),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    response_status INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    delivered_at    INTEGER
  );
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
  CREATE INDEX webhook_deliveries_user ON webhook_deliveries(user_id, created_at);
  `,
  // scheduled tasks (server/modules/schedules): a cron expression in a time zone and the task it creates
  `
  CREATE TABLE schedules (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    cron        TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    task        TEXT NOT NULL CHECK (json_valid(task)),
    paused      INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    next_run_at INTEGER,
    last_run_at INTEGER,
    last_task_id TEXT,
    last_error  TEXT,
    created_at  INTEGER NOT NULL
  );
  CREATE INDEX schedules_due ON schedules(paused, next_run_at);
  `,
  // LLM gateway (issue 17, server/gateway): providers added by admins (their key sealed with server/vault.ts),
  // per-session virtual keys (only their SHA-256 is kept), per-user provider keys (sealed with the vault),
  // which providers and models each user may use, and one usage row per request forwarded or refused. Usage rows keep their user and session ids as text, with no foreign keys:
  // spending outlives the session it was spent in.
  `
  CREATE TABLE llm_providers (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    base_url   TEXT NOT NULL,
    sealed_key TEXT,
    models     TEXT NOT NULL CHECK (json_valid(models)),
    created_at INTEGER NOT NULL
  );
  CREATE TABLE llm_session_keys (
    session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE llm_user_keys (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider   TEXT NOT NULL,
    sealed     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, provider)
  );
  CREATE TABLE llm_user_access (
    user_id   TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    providers TEXT CHECK (providers IS NULL OR json_valid(providers)),
    models    TEXT CHECK (models IS NULL OR json_valid(models))
  );
  CREATE TABLE llm_usage (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    time               INTEGER NOT NULL,
    user_id            TEXT NOT NULL,
    session_id         TEXT NOT NULL,
    conversation_id    TEXT,
    provider           TEXT NOT NULL,
    model              TEXT NOT NULL,
    input_tokens       INTEGER NOT NULL DEFAULT 0,
    output_tokens      INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd           REAL NOT NULL DEFAULT 0,
    latency_ms         INTEGER NOT NULL,
    status             INTEGER NOT NULL,
    key_source         TEXT NOT NULL
  );
  CREATE INDEX llm_usage_user_time ON llm_usage(user_id, time);
  CREATE INDEX llm_usage_session ON llm_usage(session_id);
  CREATE INDEX llm_usage_time ON llm_usage(time);
  `,
  // Sessions on a git repository (issue 14, common/git/): the repository cloned at the first start (JSON
  // { url, ref, depth }), the commit it checked out (null until the clone succeeded), and whether the agent's
  // own git may use the owner's credentials, and the pull request last opened for it.
  `
  ALTER TABLE sessions ADD COLUMN repository TEXT CHECK (repository IS NULL OR json_valid(repository));
  ALTER TABLE sessions ADD COLUMN base_commit TEXT;
  ALTER TABLE sessions ADD COLUMN agent_may_push INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE sessions ADD COLUMN pull_request_url TEXT;
  `,
  // Git credentials per user, host and kind (issue 14, server/modules/git-credentials/): an HTTPS token or
  // an SSH private key, sealed by server/vault.ts with the context git-credential:<user_id>:<host>:<kind>.
  `
  CREATE TABLE git_credentials (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    host       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('https_token', 'ssh_key')),
    username   TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (user_id, host, kind)
  );
  `,
  // Tasks (issue 15, server/modules/tasks): the repository cloned into the task's new session at its first
  // start (JSON { url, ref, depth } as sessions.repository), and a follow-up message waiting for a slot of
  // the [tasks] limits (the task is queued again until then).
  `
  ALTER TABLE tasks ADD COLUMN repository TEXT CHECK (repository IS NULL OR json_valid(repository));
  ALTER TABLE tasks ADD COLUMN follow_up TEXT;
  `,
  // Warm pool (issue 13, server/modules/sessions/pool.ts): a session started ahead of demand is owned by
  // nobody (user_id NULL, pool_state 'warm') until a create claims it (user_id set, pool_state 'claimed', for
  // good: a claimed session never returns to the pool). pool_inputs fingerprints what the session was
  // started with that could depend on an owner (the OpenCode config), so only a user whose own start would
  // be identical claims it. SQLite cannot drop NOT NULL in place: the table is rebuilt with every column it
  // has now. llm_session_keys references sessions(id) ON DELETE CASCADE and DROP TABLE deletes every row
  // first (foreign keys stay on inside the migration's transaction), so its rows are set aside and put back.
  // A migration that adds a sessions column must come after this one.
  `
  CREATE TEMP TABLE pool_keep_keys AS SELECT * FROM llm_session_keys;
  CREATE TABLE sessions_pool (
    id               TEXT PRIMARY KEY,
    user_id          TEXT REFERENCES users(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'starting', 'running', 'stopping', 'stopped', 'failed')),
    error            TEXT,
    runtime          TEXT NOT NULL CHECK (runtime IN ('local', 'container', 'swarm')),
    runtime_state    TEXT NOT NULL DEFAULT '{}',
    secret           TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    started_at       INTEGER,
    stopped_at       INTEGER,
    run_uid          INTEGER,
    last_activity_at INTEGER,
    stop_reason      TEXT CHECK (stop_reason IN ('idle', 'lifetime')),
    repository       TEXT CHECK (repository IS NULL OR json_valid(repository)),
    base_commit      TEXT,
    agent_may_push   INTEGER NOT NULL DEFAULT 0,
    pull_request_url TEXT,
    pool_state       TEXT CHECK (pool_state IN ('warm', 'claimed')),
    pool_inputs      TEXT,
    CHECK ((user_id IS NULL) = (pool_state IS NOT NULL AND pool_state = 'warm'))
  );
  INSERT INTO sessions_pool (id, user_id, name, status, error, runtime, runtime_state, secret, created_at, updated_at, started_at,
      stopped_at, run_uid, last_activity_at, stop_reason, repository, base_commit, agent_may_push, pull_request_url)
    SELECT id, user_id, name, status, error, runtime, runtime_state, secret, created_at, updated_at, started_at,
      stopped_at, run_uid, last_activity_at, stop_reason, repository, base_commit, agent_may_push, pull_request_url FROM sessions;
  DROP TABLE sessions;
  ALTER TABLE sessions_pool RENAME TO sessions;
  CREATE INDEX sessions_user ON sessions(user_id);
  CREATE UNIQUE INDEX sessions_run_uid ON sessions(run_uid) WHERE run_uid IS NOT NULL;
  INSERT INTO llm_session_keys SELECT * FROM pool_keep_keys;
  DROP TABLE pool_keep_keys;
  `,
  // Egress policy of container sessions (issue 17, server/modules/egress/): an admin's override of
  // `[network] egress` / `allow` for one session, and every connection its egress proxy saw.
  `
  CREATE TABLE session_egress (
    session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    mode       TEXT NOT NULL CHECK (mode IN ('open', 'allowlist', 'none')),
    allow      TEXT NOT NULL CHECK (json_valid(allow)),
    updated_at INTEGER NOT NULL,
    updated_by TEXT
  );
  CREATE TABLE egress_connections (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    time       INTEGER NOT NULL,
    session_id TEXT NOT NULL,
    method     TEXT NOT NULL,
    host       TEXT NOT NULL,
    port       INTEGER NOT NULL,
    allowed    INTEGER NOT NULL
  );
  CREATE INDEX egress_connections_session_time ON egress_connections(session_id, time);
  CREATE INDEX egress_connections_time ON egress_connections(time);
  `,
  // Admins' per-session budget overrides (issue 17, server/gateway/session-budgets.ts): a token budget, a
  // cost budget and a requests-per-minute limit replacing `[gateway] session_budget` / `requests_per_minute`
  // for one session; NULL = the server's setting, 0 = none.
  `
  CREATE TABLE session_budgets (
    session_id          TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    tokens              INTEGER CHECK (tokens IS NULL OR tokens >= 0),
    cost_usd            REAL CHECK (cost_usd IS NULL OR cost_usd >= 0),
    requests_per_minute INTEGER CHECK (requests_per_minute IS NULL OR requests_per_minute >= 0),
    updated_at          INTEGER NOT NULL,
    updated_by          TEXT
  );
  `,
];
