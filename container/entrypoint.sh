#!/bin/bash
# octo session entrypoint: runs a session's three services and lives exactly as long as all three do. The
# same script supervises a session in a container (its ENTRYPOINT) and in local mode (pid 1 of the session's
# bubblewrap sandbox, or a plain process group without a sandbox; server/runtime/local.ts).
#
#   OpenCode     opencode serve   on $OCTO_HOST:$OCTO_PORT_CODE   (HTTP Basic, password = the session secret)
#   file server  octo fileserver  on $OCTO_HOST:$OCTO_PORT_FILES  (same secret, as OCTO_SERVICE_TOKEN)
#   terminal     octo term        on $OCTO_HOST:$OCTO_PORT_TERM   (same secret, as OCTO_SERVICE_TOKEN)
#
# Secrets, from the environment or, with OCTO_SECRETS=stdin, as NUL-terminated NAME=VALUE records on
# standard input (they then never appear in this process's /proc/PID/environ). Local mode writes them on
# stdin; in a container the engine passes them as environment variables and `octo seal` (the image's
# entrypoint, in front of this script) moves them to stdin:
#   OCTO_SERVICE_TOKEN     the session secret; OpenCode receives it as OPENCODE_SERVER_PASSWORD.
#   OCTO_OC_ENV_<NAME>     given to OpenCode only, as <NAME> (provider API keys, OPENCODE_CONFIG_CONTENT);
#                          never in the environment of the file server or the terminal.
# Settings (environment, none secret; defaults are the container's):
#   OCTO_WORKSPACE         working directory of the agent and the terminal (default /home/dev/workspace).
#   OCTO_HOST              address the services listen on (default 0.0.0.0).
#   OCTO_PORT_CODE, OCTO_PORT_FILES, OCTO_PORT_TERM   their ports (default 4096, 4097, 4098).
#   OCTO_OPENCODE          the OpenCode executable (default opencode, from PATH).
#   OCTO_SELF              octo's own command, one argument per line (default octo, from PATH).
#   OCTO_FILESERVER_ARGS, OCTO_TERM_ARGS   extra flags, split on spaces (e.g. "--max-upload-mb 512").
#   OCTO_LIFELINE_FD       a file descriptor that reaches end of file when octo is gone (see below).
#   OCTO_STOP_GRACE_SECONDS  after SIGTERM, services still running are killed (default 10).
#
# Signals: SIGTERM/SIGINT are forwarded to all three (SIGKILL after the grace period); the entrypoint exits 0
# once they are gone.
# When one service exits on its own, the last line written is
#   octo-entrypoint: <opencode|file server|terminal> exited with code <N>
#   octo-entrypoint: <opencode|file server|terminal> was killed by SIG<NAME>
# (octo's poll shows it to the user), the others get SIGTERM, and the entrypoint exits with N (1 if N = 0).
set -u

token=
opencode_env=()
take_secret() { # NAME=VALUE
  case $1 in
    OCTO_SERVICE_TOKEN=*) token=${1#OCTO_SERVICE_TOKEN=} ;;
    OCTO_OC_ENV_*=*) opencode_env+=("${1#OCTO_OC_ENV_}") ;;
  esac
}
if [ "${OCTO_SECRETS:-}" = stdin ]; then
  while IFS= read -r -d '' record; do take_secret "$record"; done
  exec </dev/null
  unset record
else
  token=${OCTO_SERVICE_TOKEN:-}
  while IFS= read -r name; do
    case $name in
      OCTO_OC_ENV_*) take_secret "$name=${!name}"; unset "$name" ;;
    esac
  done < <(compgen -e)
fi
unset OCTO_SECRETS OCTO_SERVICE_TOKEN

workspace=${OCTO_WORKSPACE:-/home/dev/workspace}
host=${OCTO_HOST:-0.0.0.0}
port_code=${OCTO_PORT_CODE:-4096}
port_files=${OCTO_PORT_FILES:-4097}
port_term=${OCTO_PORT_TERM:-4098}
opencode=${OCTO_OPENCODE:-opencode}
self=()
while IFS= read -r arg; do [ -n "$arg" ] && self+=("$arg"); done <<<"${OCTO_SELF:-octo}"
fileserver_args=${OCTO_FILESERVER_ARGS:-}
term_args=${OCTO_TERM_ARGS:-}
grace=${OCTO_STOP_GRACE_SECONDS:-10}
unset OCTO_WORKSPACE OCTO_HOST OCTO_PORT_CODE OCTO_PORT_FILES OCTO_PORT_TERM OCTO_OPENCODE OCTO_SELF \
  OCTO_FILESERVER_ARGS OCTO_TERM_ARGS OCTO_STOP_GRACE_SECONDS

# HOME is the session's own directory (empty at first): give it the usual dotfiles.
if [ -d /etc/skel ] && [ -w "$HOME" ] && [ ! -e "$HOME/.bashrc" ]; then
  cp -rn /etc/skel/. "$HOME/" 2>/dev/null
fi
mkdir -p "$workspace" 2>/dev/null
cd "$workspace" || { echo "octo-entrypoint: cannot enter $workspace" >&2; exit 1; }

# The workspace is a git repository from the start (issue 16): OpenCode's undo (revert/unrevert) restores
# files only from its git snapshots, which it takes only when the workspace is a repository when it starts.
# Unless the workspace already is one (a clone), `git init` and an initial commit of what it holds, with
# hooks off (nothing of the workspace runs here), no signing, and a committer identity of its own.
init_workspace_repo() {
  [ -e .git ] && return 0
  # Only on a session's first start: OpenCode files conversations under the workspace's git root commit, so
  # making an existing session's workspace a repository would hide the conversations it already has (a data
  # dir from 0.1.0: test/upgrade/). Its data dir exists once OpenCode has run.
  [ -d "${XDG_DATA_HOME:-$HOME/.local/share}/opencode" ] && return 0
  command -v git >/dev/null || { echo "octo-entrypoint: git not found; undo will not restore files" >&2; return 0; }
  (
    export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
    g=(git -c core.hooksPath=/dev/null -c commit.gpgSign=false -c init.defaultBranch=main -c user.name=octo -c user.email=octo@localhost)
    "${g[@]}" init -q && "${g[@]}" add -A && "${g[@]}" commit -q --allow-empty --no-verify -m "Workspace at session start"
  ) >/dev/null 2>&1 || echo "octo-entrypoint: could not make the workspace a git repository; undo will not restore files" >&2
}
init_workspace_repo

declare -A names=()
# OCTO_LIFELINE_FD (local mode): a pipe octo holds open and never writes. End of file on it means octo is
# gone (even after kill -9), and the session ends with it like with any service.
if [ -n "${OCTO_LIFELINE_FD:-}" ]; then
  lifeline=$OCTO_LIFELINE_FD
  (exec cat <&"$lifeline" >/dev/null) &
  names[$!]=octo
  eval "exec $lifeline<&-"
fi
unset OCTO_LIFELINE_FD
# shellcheck disable=SC2086 # extra args are split on purpose
{
  # A subshell that exports, not `env NAME=VALUE`: values never appear on a command line.
  (export "${opencode_env[@]}" OPENCODE_SERVER_PASSWORD="$token" && exec "$opencode" serve --port "$port_code" --hostname "$host") &
  names[$!]=opencode
  # octo's own services start outside the workspace: Bun would otherwise load the workspace's .env and
  # bunfig.toml into them. The terminal's shells still start in the workspace (--cwd).
  (cd / && OCTO_SERVICE_TOKEN=$token exec "${self[@]}" fileserver --root "$workspace" --port "$port_files" --host "$host" $fileserver_args) &
  names[$!]="file server"
  (cd / && OCTO_SERVICE_TOKEN=$token exec "${self[@]}" term --port "$port_term" --cwd "$workspace" --host "$host" $term_args) &
  names[$!]=terminal
}
unset token opencode_env

# Whether $1 is still a live child of this shell (field 4 of /proc/PID/stat, after the command name).
child_of_mine() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  read -r state ppid _ <<<"$stat"
  [ "$ppid" = "$BASHPID" ] && [ "$state" != Z ]
}

stopping=
stop_all() {
  [ -n "$stopping" ] && return
  stopping=1
  kill -TERM "${!names[@]}" 2>/dev/null
  # What ignores SIGTERM is killed after the grace period: octo may be gone (the lifeline) and unable to.
  local pids="${!names[*]}"
  (sleep "$grace"; kill -KILL $pids 2>/dev/null) &
  killer=$!
}
trap stop_all TERM INT

status=0
while [ ${#names[@]} -gt 0 ]; do
  done_pid=
  wait -n -p done_pid "${!names[@]}"
  code=$?
  if [ -z "${done_pid:-}" ]; then
    # Interrupted by a trapped signal (keep waiting), or a service was already reaped without its status
    # reaching `wait` (bash as PID 1 reaps adopted orphans too): find which are gone, or this would spin.
    for pid in "${!names[@]}"; do
      child_of_mine "$pid" && continue
      [ -z "$stopping" ] && { echo "octo-entrypoint: ${names[$pid]} exited" >&2; status=1; stop_all; }
      unset "names[$pid]"
    done
    sleep 0.05
    continue
  fi
  name=${names[$done_pid]}
  unset "names[$done_pid]"
  if [ -z "$stopping" ]; then
    if [ "$code" -gt 128 ] && signal=$(kill -l $((code - 128)) 2>/dev/null); then
      echo "octo-entrypoint: $name was killed by SIG$signal" >&2
    else
      echo "octo-entrypoint: $name exited with code $code" >&2
    fi
    status=$code
    [ "$status" -eq 0 ] && status=1
    stop_all
  fi
done
[ -n "${killer:-}" ] && kill "$killer" 2>/dev/null
exit "$status"
