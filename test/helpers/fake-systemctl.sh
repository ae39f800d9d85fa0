#!/bin/sh
# systemctl for the install script's tests (this machine runs no systemd). Records every call in
# $FAKE_SYSTEMCTL_STATE/calls and does what systemd would with the unit in $OPS_INSTALL_SYSTEMD_DIR:
# start runs its ExecStart (with its Environment= and WorkingDirectory=, and nothing else of the
# caller's environment: what hostd needs must reach it through the unit or hostd.yaml) in the background, and stop
# signals the main process only, as KillMode=process does. Enough of `enable --now`, `disable --now`,
# start, stop, restart, is-active, show -p MainPID --value and daemon-reload for install.sh.
set -eu
state=${FAKE_SYSTEMCTL_STATE:?}
dir=${OPS_INSTALL_SYSTEMD_DIR:?}
echo "$*" >> "$state/calls"

unit=
now=0
for arg in "$@"; do
  case $arg in
    *.service) unit=$arg ;;
    --now) now=1 ;;
  esac
done
pidfile=$state/$unit.pid

main_pid() {
  pid=$(cat "$pidfile" 2>/dev/null || echo 0)
  if [ "$pid" != 0 ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; else echo 0; fi
}

start() {
  [ "$(main_pid)" = 0 ] || return 0
  exec_start=$(sed -n 's/^ExecStart=//p' "$dir/$unit")
  environment=$(sed -n 's/^Environment=//p' "$dir/$unit")
  workdir=$(sed -n 's/^WorkingDirectory=//p' "$dir/$unit")
  (
    cd "$workdir"
    # shellcheck disable=SC2086
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin $environment $exec_start </dev/null >>"$state/$unit.log" 2>&1 &
    echo $! > "$pidfile"
  )
}

stop() {
  pid=$(main_pid)
  [ "$pid" != 0 ] || return 0
  kill "$pid"
  tries=0
  while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
  rm -f "$pidfile"
}

case $1 in
  daemon-reload) ;;
  enable) [ "$now" = 0 ] || start ;;
  disable) [ "$now" = 0 ] || stop ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  is-active) [ "$(main_pid)" != 0 ] || exit 3 ;;
  show) main_pid ;;
  *) echo "fake systemctl: $1 is not faked" >&2; exit 1 ;;
esac
