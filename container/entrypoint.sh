#!/bin/bash
# octo session entrypoint: runs a session's three services in one container and lives exactly as long as
# all three do.
#
#   OpenCode     opencode serve   on 0.0.0.0:4096  (HTTP Basic, password OPENCODE_SERVER_PASSWORD)
#   file server  octo fileserver  on 0.0.0.0:4097  (same secret as OCTO_SERVICE_TOKEN)
#   terminal     octo term        on 0.0.0.0:4098  (same secret as OCTO_SERVICE_TOKEN)
#
# Environment (set by octo's container runtime, server/runtime/container.ts):
#   OCTO_SERVICE_TOKEN     the session secret; OpenCode receives it as OPENCODE_SERVER_PASSWORD only.
#   OCTO_OC_ENV_<NAME>     given to OpenCode only, as <NAME> (provider API keys, OPENCODE_CONFIG_CONTENT);
#                          removed from the environment of the file server and the terminal.
#   OCTO_WORKSPACE         working directory of the agent and the terminal (default /home/dev/workspace).
#   OCTO_FILESERVER_ARGS, OCTO_TERM_ARGS   extra flags, split on spaces (e.g. "--max-upload-mb 512").
#
# Signals: SIGTERM/SIGINT are forwarded to all three; the entrypoint exits 0 once they are gone.
# When one service exits on its own, the last line written is
#   octo-entrypoint: <opencode|file server|terminal> exited with code <N>
# (octo's poll shows it to the user), the others get SIGTERM, and the container exits with N (1 if N = 0).
set -u

workspace=${OCTO_WORKSPACE:-/home/dev/workspace}
unset OCTO_WORKSPACE
token=${OCTO_SERVICE_TOKEN:-}
fileserver_args=${OCTO_FILESERVER_ARGS:-}
term_args=${OCTO_TERM_ARGS:-}
unset OCTO_FILESERVER_ARGS OCTO_TERM_ARGS

# Collect OpenCode-only variables and remove them from this shell's environment.
opencode_env=()
while IFS= read -r name; do
  case $name in
    OCTO_OC_ENV_*)
      opencode_env+=("${name#OCTO_OC_ENV_}=${!name}")
      unset "$name"
      ;;
  esac
done < <(compgen -e)

# HOME is the session's own directory (mounted from the host, empty at first): give it the usual dotfiles.
if [ -d /etc/skel ] && [ -w "$HOME" ] && [ ! -e "$HOME/.bashrc" ]; then
  cp -rn /etc/skel/. "$HOME/" 2>/dev/null
fi
mkdir -p "$workspace" 2>/dev/null
cd "$workspace" || { echo "octo-entrypoint: cannot enter $workspace" >&2; exit 1; }

declare -A names=()
# shellcheck disable=SC2086 # extra args are split on purpose
{
  env -u OCTO_SERVICE_TOKEN "${opencode_env[@]}" OPENCODE_SERVER_PASSWORD="$token" \
    opencode serve --port 4096 --hostname 0.0.0.0 &
  names[$!]=opencode
  # octo's own services start outside the workspace: Bun would otherwise load the workspace's .env and
  # bunfig.toml into them. The terminal's shells still start in the workspace (--cwd).
  (cd / && exec octo fileserver --root "$workspace" --port 4097 --host 0.0.0.0 $fileserver_args) &
  names[$!]="file server"
  (cd / && exec octo term --port 4098 --cwd "$workspace" --host 0.0.0.0 $term_args) &
  names[$!]=terminal
}
unset token

stopping=
stop_all() {
  stopping=1
  kill -TERM "${!names[@]}" 2>/dev/null
}
trap stop_all TERM INT

status=0
while [ ${#names[@]} -gt 0 ]; do
  done_pid=
  wait -n -p done_pid "${!names[@]}"
  code=$?
  # Interrupted by a trapped signal: keep waiting for the children to finish.
  [ -z "${done_pid:-}" ] && continue
  name=${names[$done_pid]}
  unset "names[$done_pid]"
  if [ -z "$stopping" ]; then
    echo "octo-entrypoint: $name exited with code $code" >&2
    status=$code
    [ "$status" -eq 0 ] && status=1
    stop_all
  fi
done
exit "$status"
