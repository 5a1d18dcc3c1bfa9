/**
 * Allow-listed environments for session processes: nothing of octo's own environment reaches a session
 * except these locale/path variables, so no secret (JWT key path, provider keys meant for others, tokens)
 * leaks into an agent.
 */

/** Variables copied from octo's environment into every session process, when set. */
const INHERITED = ["PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME"];

/** The inherited base environment. */
export function baseEnvironment(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED) {
    const value = source[key];
    if (value !== undefined) env[key] = value;
  }
  env.PATH ??= "/usr/local/bin:/usr/bin:/bin";
  return env;
}

/**
 * HOME and XDG base directories rooted at `home`, so each session's agent history, config and caches stay in
 * that session's own directory.
 */
export function homeEnvironment(home: string): Record<string, string> {
  return {
    HOME: home,
    XDG_CONFIG_HOME: `${home}/.config`,
    XDG_DATA_HOME: `${home}/.local/share`,
    XDG_STATE_HOME: `${home}/.local/state`,
    XDG_CACHE_HOME: `${home}/.cache`,
  };
}
