#!/bin/sh
# hostd-launch: starts hostd from PREFIX/current and reverts an update whose new hostd cannot stay
# up. It travels in the host bundle (hostd-launch.sh) and the install script copies it to
# PREFIX/bin/hostd-launch, outside versions/, so no bundle it judges can break it; the systemd unit
# runs it (Restart=always restarts it). docs/host-bundle.md explains the whole update.
#
#   hostd-launch [--loop] [hostd flags…]
#
# --loop restarts hostd itself whenever it exits (as systemd's Restart=always), for machines and
# tests without systemd; SIGTERM or SIGINT stop hostd and the loop.
#
# PREFIX/update.state (written by hostd: hostd/updater/marker.ts, key=value lines) says whether
# current is a new version on probation: state swapping, restarting or health-check with current ->
# versions/<to>. Such a version gets one start. Being started a second time means its hostd ended
# inside its health window (exited at once, crashed, killed), so current goes back to
# versions/<from> first. A watchdog reverts it too, and kills it, when it has not committed by the
# marker's deadline (a hostd that hangs). hostd itself reverts when agentd is not healthy.
#
# Environment: OPS_NODE (node to run, default the one on PATH), OPS_LAUNCH_RESTART_SECONDS (pause
# between --loop restarts, default 1).
set -u

PREFIX=$(cd "$(dirname "$0")/.." && pwd -P)
MARKER=$PREFIX/update.state
STARTS=$PREFIX/update.starts
NODE=${OPS_NODE:-$(command -v node 2>/dev/null || echo node)}
RESTART_SECONDS=${OPS_LAUNCH_RESTART_SECONDS:-1}

say() { printf 'hostd-launch: %s\n' "$*" >&2; }
field() { sed -n "s/^$1=//p" "$MARKER" 2>/dev/null | head -n 1; }
current_version() {
  link=$(readlink "$PREFIX/current" 2>/dev/null) || return 0
  printf '%s\n' "${link#versions/}"
}

# A new link renamed over the old one: current is never missing (sh's mv would move into the folder).
point_current() {
  rm -f "$PREFIX/.current.new"
  ln -s "versions/$1" "$PREFIX/.current.new" &&
    "$NODE" -e 'require("fs").renameSync(process.argv[1], process.argv[2])' "$PREFIX/.current.new" "$PREFIX/current"
}

# The marker, rewritten whole (temporary file, sync, rename) with state=reverting and why.
mark_reverting() {
  tmp=$MARKER.launch.tmp
  {
    printf 'op=%s\nstate=reverting\nrollout=%s\nfrom=%s\nto=%s\n' "$(field op)" "$(field rollout)" "$(field from)" "$(field to)"
    printf 'health=%s\ndeadline=0\ncode=3013\nat=%s000\nmessage=%s\n' "$(field health)" "$(date +%s)" "$1"
  } > "$tmp" && chmod 600 "$tmp" && sync && mv -f "$tmp" "$MARKER" && sync
}

revert() {
  from=$(field from)
  if [ -z "$from" ] || [ ! -f "$PREFIX/versions/$from/hostd.mjs" ]; then
    say "cannot revert: the previous version ($from) is not in $PREFIX/versions"
    return 1
  fi
  mark_reverting "$1"
  point_current "$from" && say "$1: current -> versions/$from"
  rm -f "$STARTS"
}

# Before each start: finish a revert, or count the starts of a version on probation.
WATCH_TO=
prepare() {
  WATCH_TO=
  [ -f "$MARKER" ] || return 0
  state=$(field state)
  to=$(field to)
  current=$(current_version)
  # The count is for one probation: a committed or reverted version starts afresh next time.
  case $state in swapping|restarting|health-check) ;; *) rm -f "$STARTS" ;; esac
  [ -n "$to" ] && [ "$current" = "$to" ] || return 0
  case $state in
    reverting) point_current "$(field from)" && say "finishing the revert of $to: current -> versions/$(field from)"; return 0 ;;
    swapping|restarting|health-check) ;;
    *) return 0 ;;
  esac
  starts=0
  if [ -f "$STARTS" ]; then
    read -r seen count < "$STARTS" || true
    [ "${seen:-}" = "$to" ] && starts=${count:-0}
  fi
  case $starts in ''|*[!0-9]*) starts=0 ;; esac
  if [ "$starts" -ge 1 ]; then
    revert "hostd $to ended within its health window (started $starts time(s))"
    return 0
  fi
  deadline=$(field deadline)
  case $deadline in ''|*[!0-9]*) deadline=0 ;; esac
  if [ "$deadline" -gt 0 ] && [ "$(date +%s)" -ge "$deadline" ]; then
    revert "hostd $to did not commit before its deadline"
    return 0
  fi
  printf '%s %s\n' "$to" $((starts + 1)) > "$STARTS"
  WATCH_TO=$to
  WATCH_DEADLINE=$deadline
}

# In the background: at the deadline, a version still on probation is reverted and its hostd killed.
start_watchdog() {
  [ -n "$WATCH_TO" ] && [ "$WATCH_DEADLINE" -gt 0 ] || return 0
  pid=$1
  (
    trap '' TERM INT HUP
    while [ "$(date +%s)" -lt "$WATCH_DEADLINE" ]; do sleep 1; done
    case $(field state) in swapping|restarting|health-check) ;; *) exit 0 ;; esac
    [ "$(field to)" = "$WATCH_TO" ] && [ "$(current_version)" = "$WATCH_TO" ] || exit 0
    revert "hostd $WATCH_TO did not commit before its deadline (it hangs?)" || exit 0
    # Only the hostd this launcher started, if it still runs.
    case $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) in *hostd.mjs*) kill -9 "$pid" 2>/dev/null ;; esac
  ) < /dev/null > /dev/null 2>&1 &
}

export OPS_LAUNCHER=1
if [ "${1:-}" != --loop ]; then
  prepare
  start_watchdog $$
  exec "$NODE" "$PREFIX/current/hostd.mjs" "$@"
fi

shift
child=
stopping=0
trap 'stopping=1; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null' TERM INT
while :; do
  prepare
  "$NODE" "$PREFIX/current/hostd.mjs" "$@" &
  child=$!
  start_watchdog "$child"
  code=0
  # wait returns early when a signal arrives: wait again until hostd is gone.
  while kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done
  child=
  [ "$stopping" = 0 ] || exit "$code"
  say "hostd exited ($code); starting it again in $RESTART_SECONDS s"
  sleep "$RESTART_SECONDS"
  [ "$stopping" = 0 ] || exit "$code"
done
