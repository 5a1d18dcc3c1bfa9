/**
 * The one schema for octo's configuration. Every key, its type and its default live here; the TOML file,
 * `OCTO_<SECTION>__<KEY>` environment variables and CLI flags are all validated against it
 * (see `load.ts`). `config.example.toml` documents the same keys with the same defaults.
 *
 * Units are in the key names: `_seconds`, `_ms`, `_mb`.
 */
import { z } from "zod";

const port = z.number().int().min(0).max(65535);
const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `a URL starting with ${protocols.join(" or ")}`);

export const ServerConfig = z.strictObject({
  /** Address to bind; 127.0.0.1 keeps octo private to this machine. */
  host: z.string().min(1).default("127.0.0.1"),
  /** TCP port for the API, the web app and the session proxy (0 = pick a free port). */
  port: port.default(8080),
  /** Directory for the database, the JWT secret and workspaces; "" = $XDG_DATA_HOME/octo. */
  data_dir: z.string().default(""),
  /** Extra origins (e.g. "https://octo.example.com") allowed to open WebSockets and send cookie writes besides octo's own. */
  allowed_origins: z.array(z.string()).default([]),
  /** Mark the auth cookie `Secure` (set when octo is served over HTTPS behind a TLS proxy); octo's origin is then https. */
  secure_cookies: z.boolean().default(false),
  /**
   * Behind a reverse proxy: take the client address from the last `X-Forwarded-For` entry (the one the
   * proxy added) for login throttling and logs, and octo's scheme from `X-Forwarded-Proto`. Leave off when
   * clients reach octo directly: they could forge them.
   */
  trust_proxy: z.boolean().default(false),
  log_level: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

export const AuthConfig = z.strictObject({
  /** Lifetime of a login token (JWT `exp`), in seconds. */
  token_ttl_seconds: z.number().int().min(60).default(86_400),
  /** Failed logins allowed per username+address within `login_window_seconds` before 429. */
  login_max_attempts: z.number().int().min(1).default(10),
  login_window_seconds: z.number().int().min(1).default(300),
  /** Registrations allowed per client address within `register_window_seconds` before 429 (successful ones do not count). */
  register_max_attempts: z.number().int().min(1).default(20),
  register_window_seconds: z.number().int().min(1).default(600),
  /** argon2id password hashes and checks run at once (each takes about 100 ms of CPU and 64 MiB). */
  max_concurrent_password_hashes: z.number().int().min(1).default(4),
  /** Further ones that wait their turn; beyond that login and register answer 429 SERVER_BUSY with Retry-After. */
  max_queued_password_hashes: z.number().int().min(0).default(32),
});

export const AuditConfig = z.strictObject({
  /** Days audit events are kept before the server prunes them (0 = keep them for ever). */
  retention_days: z.number().int().min(0).max(36_500).default(365),
});

export const RuntimeConfig = z.strictObject({
  /**
   * Where sessions run: "local" processes, "container"s, "swarm" services on a Docker Swarm cluster (see
   * `[swarm]`), or "auto" (containers when an engine answers).
   */
  mode: z.enum(["local", "container", "swarm", "auto"]).default("local"),
  /** Bound on starting a session's services (spawn/create+start), in seconds. */
  start_timeout_seconds: z.number().positive().default(60),
  /** Bound on all services passing readiness after they started, in seconds. */
  ready_timeout_seconds: z.number().positive().default(60),
  /** Grace period between SIGTERM (or container stop) and SIGKILL, in seconds. */
  stop_timeout_seconds: z.number().positive().default(10),
  /** How often running sessions are polled for liveness, in seconds. */
  poll_interval_seconds: z.number().positive().default(5),
  /** What happens when a running session's service dies: mark it "failed" or "restart" it once. */
  on_failure: z.enum(["fail", "restart"]).default("fail"),
  /** Running sessions allowed per user (0 = unlimited). */
  max_sessions_per_user: z.number().int().min(0).default(10),
  /**
   * Local mode: each session (OpenCode, file server, terminal and what the agent runs) lives in one bubblewrap
   * sandbox that sees only system directories, octo's programs and the session's own directories (see
   * docs/security.md). "auto" = when `bwrap` works on this machine; "none" = no isolation at all.
   */
  sandbox: z.enum(["auto", "bwrap", "none"]).default("auto"),
  /**
   * Without a working sandbox, local mode serves one user only (a second account or an invite code for one is
   * refused): every session could read every other one and octo's data. true = share it anyway, knowingly.
   */
  allow_unsandboxed_multi_user: z.boolean().default(false),
  /** octo as root: each local session runs as its own uid (and gid) from this range, unused by any account. */
  session_uid_base: z.number().int().min(1000).max(4_000_000_000).default(3_000_000),
  /** How many uids the range holds (the most sessions there can be at once, running or not). */
  session_uid_count: z.number().int().min(1).max(10_000_000).default(100_000),
  /** Size limit of each local sandbox's private /tmp (a tmpfs, so it counts as memory), in MiB. */
  sandbox_tmp_mb: z.number().int().min(1).default(1024),
  /** Extra host paths every local sandbox sees read-only (e.g. "/opt/tools"). */
  sandbox_read_only_paths: z.array(z.string()).default([]),
});

/**
 * Session lifecycle on a shared server (server/modules/sessions/lifecycle.ts): idle stop, a lifetime cap,
 * resuming on access, and server-wide limits. `idle_timeout_seconds` and `max_lifetime_seconds` can be
 * overridden per user by an admin (`PATCH /api/admin/users/:id`).
 */
export const SessionsConfig = z.strictObject({
  /**
   * A running session with no activity for this long is stopped (workspace, home and conversations kept);
   * never while its agent is busy or waits on a permission or question. Seconds; 0 = never.
   */
  idle_timeout_seconds: z.number().int().min(0).default(1800),
  /** Hard cap on how long a session runs after it started, busy or not; seconds, 0 = no cap. */
  max_lifetime_seconds: z.number().int().min(0).default(0),
  /** A request through the session proxy for a stopped session starts it (answering 503 SESSION_STARTING meanwhile). */
  resume_on_access: z.boolean().default(false),
  /** Sessions (running or not) one user may have; over it creating one answers 429. 0 = unlimited. */
  max_sessions_per_user_total: z.number().int().min(0).default(100),
  /** Sessions running (or starting) on this server at once, everyone's together; 0 = unlimited. */
  max_running_sessions: z.number().int().min(0).default(0),
  /** Sessions starting at once on this server (JupyterHub's `concurrent_spawn_limit`, default 100); 0 = unlimited. */
  concurrent_start_limit: z.number().int().min(0).default(100),
  /**
   * Warm pool (server/modules/sessions/pool.ts): this many sessions are kept started and ready, owned by
   * nobody; creating a session without a repository claims one (ready at once) and the pool refills in the
   * background. Pool sessions never count against a user's limits and are the first stopped when the server
   * reaches `max_running_sessions`. 0 = no pool. At most `max_running_sessions` when that is set.
   */
  warm_pool: z.number().int().min(0).max(100).default(0),
  /**
   * While the machine's available memory (`MemAvailable`) is below this, the pool gives up its sessions one
   * by one and does not refill. MiB; 0 = not checked.
   */
  warm_pool_min_free_memory_mb: z.number().int().min(0).default(1024),
  /**
   * A pool session older than this (seconds since it was created for the pool) is replaced by a fresh one,
   * one at a time and only while no other pool session is starting, so the pool stays at most one short. It
   * picks up what changed since it started without an octo restart (the OpenCode binary, the session image,
   * the sandbox settings) and does not keep one OpenCode process idle for days. Default 12 h (OpenHands caps
   * its warm sandboxes the same way); 0 = never.
   */
  warm_pool_max_age_seconds: z.number().int().min(0).default(43_200),
}).superRefine((s, ctx) => {
  if (s.max_running_sessions > 0 && s.warm_pool > s.max_running_sessions) {
    ctx.addIssue({
      code: "custom",
      path: ["warm_pool"],
      input: s.warm_pool,
      message: `at most [sessions] max_running_sessions (${s.max_running_sessions}): a pool larger than the server may run could never fill`,
    });
  }
});

export const OpencodeConfig = z.strictObject({
  /** OpenCode executable; "" = the pinned `opencode-ai` dependency, then `opencode` on PATH. */
  binary: z.string().default(""),
  /** An opencode.json whose content every session's OpenCode receives (providers, models, permissions). */
  config_path: z.string().default(""),
  /** Extra environment for OpenCode only (e.g. provider API keys). Never given to the file server or terminal. */
  env: z.record(z.string(), z.string()).default({}),
});

/** A provider's id: what sessions see in `/llm/<id>` and OpenCode's `<id>/<model>`. */
export const ProviderIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "a provider id: lowercase letters, digits and -, at most 32");

/** One upstream LLM provider the gateway serves to sessions as `/llm/<id>/...`. */
export const GatewayProvider = z.strictObject({
  /**
   * The API it speaks: "openai-compatible" (chat completions, e.g. a local vLLM or llama.cpp server),
   * "openai" (chat completions and responses) or "anthropic" (messages).
   */
  type: z.enum(["openai-compatible", "openai", "anthropic"]),
  /** Upstream base URL including the version path, e.g. "https://api.openai.com/v1"; "" = the type's public API. */
  base_url: z.union([z.literal(""), url(["http:", "https:"])]).default(""),
  /** The server-wide API key; a user's own key for this provider (settings page) takes precedence. */
  api_key: z.string().default(""),
  /** Model ids offered to sessions; the first provider's first model is the default model. */
  models: z.array(z.string().min(1)).min(1),
});

/** Price of one model, in US dollars per million tokens. */
export const ModelPrice = z.strictObject({
  input_usd_per_mtok: z.number().min(0).default(0),
  output_usd_per_mtok: z.number().min(0).default(0),
  cache_read_usd_per_mtok: z.number().min(0).default(0),
  cache_write_usd_per_mtok: z.number().min(0).default(0),
});

/** A spending limit: tokens (input + output + cache) and/or US dollars; 0 = no limit. */
const Limit = z.strictObject({
  tokens: z.number().int().min(0).default(0),
  cost_usd: z.number().min(0).default(0),
});

export const GatewayConfig = z.strictObject({
  /**
   * Providers by id (lowercase letters, digits, "-"), e.g. `[gateway.providers.openai]`. Sessions get them
   * through octo's LLM gateway with a per-session virtual key; the real key never reaches a session.
   */
  providers: z.record(ProviderIdSchema, GatewayProvider).default({}),
  /** Prices by "<provider>/<model>", for the cost column of usage and cost budgets. */
  prices: z.record(z.string(), ModelPrice).default({}),
  /** Host name session containers use to reach octo's gateway; "" = host.containers.internal (Podman). */
  container_host: z.string().default(""),
  /** Largest request body a session may send to a provider, in MiB. */
  max_body_mb: z.number().positive().default(32),
  /** Requests per minute per session; 0 = unlimited. */
  requests_per_minute: z.number().int().min(0).default(0),
  /** Budget of each session over its whole life. */
  session_budget: Limit.prefault({}),
  /** Budget of each user per UTC day. */
  user_daily_budget: Limit.prefault({}),
  /** Budget of each user per UTC month. */
  user_monthly_budget: Limit.prefault({}),
});

export const FileserverConfig = z.strictObject({
  /** Largest upload or file write accepted, in MiB (larger answers 413). */
  max_upload_mb: z.number().positive().default(512),
});

export const TerminalConfig = z.strictObject({
  /** Shell started for each terminal connection; "" = $SHELL of the server, then /bin/bash. */
  shell: z.string().default(""),
});

export const ContainerConfig = z.strictObject({
  /** Docker API socket; "" = $DOCKER_HOST, /var/run/docker.sock, then Podman's rootful and rootless sockets. */
  socket: z.string().default(""),
  /** Session image; "" = octo-session:<octo version>. */
  image: z.string().default(""),
  /** Container network; "" = the engine's default bridge. */
  network: z.string().default(""),
  /** Memory limit per session, Docker syntax ("2g", "512m"). */
  memory: z.string().regex(/^\d+(\.\d+)?[bkmg]?$/i, 'a size such as "2g" or "512m"').default("2g"),
  /** CPU limit per session (e.g. 1.5). */
  cpus: z.number().positive().default(2),
  /** Process limit per session. */
  pids_limit: z.number().int().positive().default(1024),
  /** Extra environment for session containers. */
  extra_env: z.record(z.string(), z.string()).default({}),
  /** Extra mounts, Docker bind syntax "host:container[:ro]". */
  extra_mounts: z.array(z.string()).default([]),
});

/**
 * One `[network] allow` entry: a host name ("registry.npmjs.org"), a wildcard for its subdomains
 * ("*.example.com": any name below example.com, not example.com itself), either with ":port" (one port)
 * or without (ports 80 and 443).
 */
export const EgressAllowEntry = z
  .string()
  .regex(
    /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:[1-9][0-9]{0,4})?$/i,
    'a host name ("registry.npmjs.org"), "*.example.com", optionally with ":port"',
  )
  .refine((entry) => !/:(\d+)$/.test(entry) || Number(/:(\d+)$/.exec(entry)![1]) <= 65535, "a port from 1 to 65535");

/** A session's egress policy: "open" (the engine's network as is), "allowlist" (the proxy), "none". */
export const EgressMode = z.enum(["open", "allowlist", "none"]);

export const NetworkConfig = z.strictObject({
  /**
   * Container mode: what a session's container may reach. "open" = the engine's network, unfiltered (as
   * before); "allowlist" = only the hosts in `allow`, through octo's per-session CONNECT proxy (and the LLM
   * gateway); "none" = nothing but the LLM gateway.
   */
  egress: EgressMode.default("open"),
  /** Hosts an "allowlist" session may reach (see {@link EgressAllowEntry}). */
  allow: z.array(EgressAllowEntry).default([]),
  /**
   * IPv4 range the per-session internal networks are carved from, one /29 each (8192 sessions in a /16).
   * Must not overlap a network the host uses.
   */
  subnet_pool: z
    .string()
    .regex(/^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-9])$/, 'an IPv4 range such as "10.213.0.0/16" (prefix 16 to 29)')
    .default("10.213.0.0/16"),
  /**
   * Names the proxy resolves to fixed addresses, `{ "git.internal" = "192.0.2.10" }` (its /etc/hosts), for
   * hosts the proxy's DNS does not know. The names must still be allowed.
   */
  /**
   * The egress sidecar's image; "" = octo-egress:<version>, which octo builds itself when missing (tinyproxy
   * and socat on localhost/octo-base:bookworm, container/egress.Dockerfile).
   */
  proxy_image: z.string().default(""),
  proxy_hosts: z.record(z.string().regex(/^[a-z0-9.-]+$/i, "a host name"), z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$/, "an IPv4 address")).default({}),
});
export type NetworkConfig = z.infer<typeof NetworkConfig>;

const size = z.string().regex(/^\d+(\.\d+)?[bkmg]?$/i, 'a size such as "2g" or "512m"');

/**
 * Swarm mode (`[runtime] mode = "swarm"`): each session is a Docker Swarm service with one task, made from
 * `[container] image` with `[container]`'s limits, env and labels (server/runtime/swarm.ts, docs/scale-out.md).
 */
export const SwarmConfig = z.strictObject({
  /** A swarm manager's Docker API: a socket path, `unix://PATH`, or `tcp://HOST:PORT` (TLS with `tls_*`); "" = `[container] socket`'s discovery. */
  socket: z.string().default(""),
  /** TLS for a `tcp://` manager: CA certificate, client certificate and key files (PEM); all three or none. */
  tls_ca: z.string().default(""),
  tls_cert: z.string().default(""),
  tls_key: z.string().default(""),
  /**
   * How octo reaches a session's services: "published" = the task's node address and ports published in
   * host mode (octo outside the cluster); "network" = by service name on `network` (octo a service there).
   */
  reach: z.enum(["published", "network"]).default("published"),
  /** An attachable overlay network every session service joins ("" = none; required by reach = "network"). */
  network: z.string().default(""),
  /** Driver of each session's volume (home and workspace), e.g. "local"; created on the node of first placement. */
  volume_driver: z.string().default("local"),
  /** Its driver options, e.g. { type = "nfs", o = "addr=10.0.0.5,rw", device = ":/export/octo" } for shared storage. */
  volume_options: z.record(z.string(), z.string()).default({}),
  /** Pin each session to the node where its volume was created (false only for storage every node shares). */
  pin_to_node: z.boolean().default(true),
  /** Memory the scheduler reserves per session, Docker syntax ("512m"); "" = none. */
  memory_reservation: z.union([z.literal(""), size]).default(""),
  /** CPUs the scheduler reserves per session (0 = none). */
  cpus_reservation: z.number().min(0).default(0),
  /** Extra placement constraints, Swarm syntax (e.g. "node.labels.octo == true"). */
  constraints: z.array(z.string()).default([]),
  /** Placement preferences, Swarm syntax "spread=<descriptor>" (e.g. "spread=node.labels.zone"). */
  placement_preferences: z.array(z.string().regex(/^spread=\S+$/, 'a preference such as "spread=node.labels.zone"')).default([]),
});

export const TasksConfig = z.strictObject({
  /** Tasks running at once on this server (starting, running or waiting); more wait in "queued", in order. */
  max_running: z.number().int().min(1).default(4),
  /** Tasks one user may have running at once; their further tasks wait in "queued", in order. */
  max_running_per_user: z.number().int().min(1).default(2),
  /** Largest task prompt or follow-up message accepted, in bytes (larger answers 400 PROMPT_TOO_LARGE). */
  max_prompt_bytes: z.number().int().min(1).max(1_000_000).default(65_536),
});

/** Standard Webhooks' retry schedule, stretched to a day: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 6 h 40 min. */
const WEBHOOK_RETRY_DELAYS = [5, 300, 1800, 7200, 18_000, 36_000, 24_000];

export const WebhooksConfig = z.strictObject({
  /**
   * Allow webhook targets on loopback, private, link-local and this machine's own addresses (a delivery is a
   * request made by octo itself, so by default it may reach only public addresses).
   */
  allow_private_targets: z.boolean().default(false),
  /** Seconds between a failed delivery attempt and the next one; after the last, the delivery is given up. */
  retry_delays_seconds: z.array(z.number().positive()).max(20).default(WEBHOOK_RETRY_DELAYS),
  /** How long one delivery attempt may take, in seconds. */
  timeout_seconds: z.number().positive().max(300).default(10),
});

export const VoiceConfig = z.strictObject({
  enabled: z.boolean().default(false),
  /** eaRS speech-to-text WebSocket server. */
  stt_url: url(["ws:", "wss:"]).default("ws://127.0.0.1:8765"),
  /** kokorox text-to-speech WebSocket server. */
  tts_url: url(["ws:", "wss:"]).default("ws://127.0.0.1:8766"),
  default_voice: z.string().default("af_heart"),
  default_speed: z.number().min(0.1).max(3).default(1.0),
  /** Silence after the last word before the transcript is sent, in ms. */
  vad_timeout_ms: z.number().int().min(100).default(1500),
  /** Go back to listening after the answer was spoken. */
  continuous: z.boolean().default(true),
  /** Words spoken while the agent talks that interrupt playback. */
  interrupt_word_count: z.number().int().min(1).default(2),
});

/**
 * One forge (`[forges.<name>]`): where pull requests for repositories on `host` are opened, through the
 * forge's REST API (server/forges/). Self-hosted forges work: give their API base URL.
 */
export const ForgeConfig = z.strictObject({
  /** GitHub (REST v3, Octokit), GitLab (REST v4, merge requests) or Gitea/Forgejo (REST v1). */
  kind: z.enum(["github", "gitlab", "gitea"]),
  /** Host of the repository URLs this forge serves, with :port when not the default (e.g. "github.com"). */
  host: z.string().min(1).regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "a host name, with :port when not the default"),
  /** API base URL, e.g. https://api.github.com, https://gitlab.example.com/api/v4, https://gitea.example.com/api/v1. */
  api_url: url(["https:", "http:"]),
});
export type ForgeConfig = z.infer<typeof ForgeConfig>;

/** `[forges]`: forges by a name of your choice; none by default. */
export const ForgesConfig = z.record(z.string().regex(/^[a-z0-9_-]+$/, "a forge name: lowercase letters, digits, - and _"), ForgeConfig);

/** `[git]`: how octo's own git (clones, pushes) reaches repositories. */
export const GitConfig = z.strictObject({
  /**
   * A known_hosts file (OpenSSH format) pinning the SSH host keys of the forges your team uses. Hosts in it
   * are checked against it only; hosts not in it are trusted on first use and recorded in the data dir
   * (`<data_dir>/known_hosts`). "" = trust on first use for every host.
   */
  known_hosts: z.string().default(""),
});

export const MetricsConfig = z.strictObject({
  /** Serve `GET /metrics` (Prometheus text format). Off: 404. */
  enabled: z.boolean().default(false),
  /**
   * A bearer token a scraper presents (`Authorization: Bearer <token>`); "" = only an admin's login may
   * read the metrics.
   */
  token: z.string().default(""),
});

export const OctoConfig = z.strictObject({
  server: ServerConfig.prefault({}),
  auth: AuthConfig.prefault({}),
  audit: AuditConfig.prefault({}),
  runtime: RuntimeConfig.prefault({}),
  sessions: SessionsConfig.prefault({}),
  opencode: OpencodeConfig.prefault({}),
  fileserver: FileserverConfig.prefault({}),
  terminal: TerminalConfig.prefault({}),
  container: ContainerConfig.prefault({}),
  network: NetworkConfig.prefault({}),
  swarm: SwarmConfig.prefault({}),
  voice: VoiceConfig.prefault({}),
  gateway: GatewayConfig.prefault({}),
  metrics: MetricsConfig.prefault({}),
  tasks: TasksConfig.prefault({}),
  webhooks: WebhooksConfig.prefault({}),
  forges: ForgesConfig.default({}),
  git: GitConfig.prefault({}),
});

/** The validated configuration, every key present. */
export type OctoConfig = z.infer<typeof OctoConfig>;
/** Names of the config sections, e.g. "server". */
export type SectionName = keyof OctoConfig;

/** Keys whose values are secrets: redacted by `octo config show` and never logged. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(["opencode.env", "container.extra_env", "metrics.token", "gateway.providers"]);
