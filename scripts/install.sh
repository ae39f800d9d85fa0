#!/bin/sh
# opsctl host install. The manager serves this file at GET /install.sh with the @@…@@ values filled
# in (server/modules/host-install), and `opsctl nodes token create` prints the command that runs it:
#
#   curl -fsSL -k --pinnedpubkey 'sha256//…' https://manager:8440/install.sh | sudo OPS_ENROLL_TOKEN=… sh
#   … | sudo sh -s -- --prefix /srv/opsctl --no-start
#   … | sudo OPS_ENROLL_TOKEN=… sh -s -- --name web-1 --agent-listen 127.0.0.1:9442
#   … | sudo sh -s -- --uninstall
#
# It downloads the host bundle with the same pin, checks its SHA-256 before unpacking anything,
# unpacks it to PREFIX/versions/VERSION, checks every file against the bundle's manifest, points
# PREFIX/current at it, installs the launcher PREFIX/bin/hostd-launch (from the bundle; it reverts an
# update whose new hostd cannot stay up), writes PREFIX/etc/hostd.yaml (once: a second run keeps it,
# adding only release keys it lacks), installs and starts a systemd unit that runs the launcher, and
# waits for hostd to enroll. Run it again to repair or update.
# For tests: OPS_INSTALL_SYSTEMD_DIR (default /etc/systemd/system), OPS_INSTALL_SYSTEMD_RUNTIME (the
# folder whose presence means systemd runs, default /run/systemd/system), OPS_INSTALL_SYSTEMCTL
# (default systemctl) and OPS_INSTALL_ENROLL_SECONDS (how long to wait for enrollment, default 60).
#
# Everything runs from main, called on the last line: a download cut short runs nothing.
set -eu

MANAGER_URL=@@MANAGER_URL@@
# curl's --pinnedpubkey value of the manager's certificate; empty when the manager serves plain HTTP.
PIN=@@PIN@@
GRPC_ADDRESS=@@GRPC_ADDRESS@@
CA_HASH=@@CA_HASH@@
VERSION=@@VERSION@@
# One line per bundle of this version the manager has: PLATFORM-ARCH SHA256 FILE.
BUNDLES=@@BUNDLES@@

UNIT=opsctl-hostd.service
SYSTEMD_DIR=${OPS_INSTALL_SYSTEMD_DIR:-/etc/systemd/system}
SYSTEMD_RUNTIME=${OPS_INSTALL_SYSTEMD_RUNTIME:-/run/systemd/system}
SYSTEMCTL=${OPS_INSTALL_SYSTEMCTL:-systemctl}
ENROLL_SECONDS=${OPS_INSTALL_ENROLL_SECONDS:-60}
MARKER=.opsctl-install

say() { printf 'opsctl install: %s\n' "$*"; }
die() { printf 'opsctl install: error: %s\n' "$*" >&2; exit 1; }
usage_error() { printf 'opsctl install: %s (--help lists the options)\n' "$*" >&2; exit 2; }

print_help() {
  cat <<EOF
Installs hostd and agentd from the opsctl manager at $MANAGER_URL and enrolls this host.

  curl -fsSL -k --pinnedpubkey '$PIN' $MANAGER_URL/install.sh | sudo OPS_ENROLL_TOKEN=<token> sh -s -- [options]

Options:
  --prefix DIR   install under DIR (default /opt/opsctl): versions/, current, etc/hostd.yaml, data/
  --name NAME    the node name to enroll as (default: this host's name; or \$OPS_NODE_NAME)
  --agent-listen HOST:PORT
                 agentd's HTTP address (default 127.0.0.1:8442; or \$OPS_AGENT_LISTEN)
  --no-start     install, but do not enable or start the systemd unit (prints how to start hostd);
                 the only way to install without root (no unit is written then)
  --trust-key KEY  trust release signatures by KEY (ed25519:<base64>, as opsctl release keygen
                 prints it) for updates; repeat for several. Also OPS_RELEASE_KEYS=KEY,KEY
  --uninstall    stop hostd and agentd, remove the unit and the whole prefix
  --help         this text

OPS_ENROLL_TOKEN (from opsctl nodes token create) is needed on the first install only.
Without a trusted release key hostd refuses every update; add keys later with --trust-key.
OPS_ENROLL_TOKEN (from opsctl nodes token create) is needed on the first install only. sudo
passes no other environment: give the name and address as options (or as sudo VAR=value).
--name and --agent-listen go into hostd.yaml on the first install; a later run keeps the file
(and refuses an option the kept file does not hold).
EOF
}

# Release keys, separated by commas or spaces, onto TRUST_KEYS (plain sh: parse_args runs before
# anything is checked, with whatever tools PATH has).
add_trust_keys() {
  old_ifs=$IFS
  IFS=', '
  for key in $1; do TRUST_KEYS="$TRUST_KEYS $key"; done
  IFS=$old_ifs
}

parse_args() {
  PREFIX=/opt/opsctl
  UNINSTALL=0
  START=1
  TRUST_KEYS=
  add_trust_keys "${OPS_RELEASE_KEYS:-}"
  # The same environment hostd itself reads these from; an option wins over it. Only an option is
  # checked against a kept hostd.yaml: the environment is ambient, an option is asked for.
  NODE_NAME=${OPS_NODE_NAME:-}
  AGENT_LISTEN=${OPS_AGENT_LISTEN:-}
  NAME_OPTION=
  LISTEN_OPTION=
  while [ $# -gt 0 ]; do
    case $1 in
      --prefix) [ $# -ge 2 ] || usage_error "--prefix needs a folder"; PREFIX=$2; shift 2 ;;
      --prefix=*) PREFIX=${1#--prefix=}; shift ;;
      --name) [ $# -ge 2 ] || usage_error "--name needs a node name"; NODE_NAME=$2; NAME_OPTION=$2; shift 2 ;;
      --name=*) NODE_NAME=${1#--name=}; NAME_OPTION=$NODE_NAME; shift ;;
      --agent-listen) [ $# -ge 2 ] || usage_error "--agent-listen needs HOST:PORT"; AGENT_LISTEN=$2; LISTEN_OPTION=$2; shift 2 ;;
      --agent-listen=*) AGENT_LISTEN=${1#--agent-listen=}; LISTEN_OPTION=$AGENT_LISTEN; shift ;;
      --uninstall) UNINSTALL=1; shift ;;
      --no-start) START=0; shift ;;
      --trust-key) [ $# -ge 2 ] || usage_error "--trust-key needs a key"; add_trust_keys "$2"; shift 2 ;;
      --trust-key=*) add_trust_keys "${1#--trust-key=}"; shift ;;
      -h|--help) print_help; exit 0 ;;
      *) usage_error "unknown option: $1" ;;
    esac
  done
  # The prefix goes into a unit file and YAML unquoted, and --uninstall removes it: keep it plain.
  case $PREFIX in
    /*) ;;
    *) usage_error "--prefix must be an absolute path, got $PREFIX" ;;
  esac
  case $PREFIX in
    *[!A-Za-z0-9/._-]*) usage_error "--prefix may hold only letters, digits and / . _ -, got $PREFIX" ;;
  esac
  case /$PREFIX/ in
    */./*|*/../*) usage_error "--prefix must not hold . or .. segments, got $PREFIX" ;;
  esac
  while [ "${PREFIX%/}" != "$PREFIX" ]; do PREFIX=${PREFIX%/}; done
  [ -n "$PREFIX" ] || usage_error "--prefix / is not a folder of its own"
  # Keys go into hostd.yaml: only the form hostd accepts (hostd checks the length when it starts).
  for key in $TRUST_KEYS; do
    case $key in
      ed25519:*[!A-Za-z0-9+/=]*|ed25519:) usage_error "--trust-key takes ed25519:<base64> (opsctl release keygen prints it), got $key" ;;
      ed25519:*) ;;
      *) usage_error "--trust-key takes ed25519:<base64> (opsctl release keygen prints it), got $key" ;;
    esac
  done
  check_name_and_listen
  CONFIG=$PREFIX/etc/hostd.yaml
  LAUNCHER=$PREFIX/bin/hostd-launch
  DATA=$PREFIX/data
  UNIT_FILE=$SYSTEMD_DIR/$UNIT
}

# Both go into hostd.yaml unquoted-safe (inside double quotes) and through grep: what the manager
# accepts as a node name (server/hostlink/service.ts), and HOST:PORT with a port hostd can listen on.
check_name_and_listen() {
  case $NODE_NAME in
    '') ;;
    [!A-Za-z0-9]*|*[!A-Za-z0-9._-]*) usage_error "--name may hold only letters, digits and . _ - (starting with a letter or digit), got $NODE_NAME" ;;
  esac
  [ "${#NODE_NAME}" -le 253 ] || usage_error "--name is longer than 253 characters"
  [ -n "$AGENT_LISTEN" ] || return 0
  listen_host=${AGENT_LISTEN%:*}
  listen_port=${AGENT_LISTEN##*:}
  case $AGENT_LISTEN in
    *:*) ;;
    *) usage_error "--agent-listen must be HOST:PORT, got $AGENT_LISTEN" ;;
  esac
  case $listen_host in
    ''|*[!A-Za-z0-9.:\[\]-]*) usage_error "--agent-listen must be HOST:PORT, got $AGENT_LISTEN" ;;
  esac
  case $listen_port in
    ''|*[!0-9]*) usage_error "--agent-listen must be HOST:PORT with a port from 1 to 65535, got $AGENT_LISTEN" ;;
  esac
  [ "${#listen_port}" -le 5 ] && [ "$listen_port" -ge 1 ] && [ "$listen_port" -le 65535 ] ||
    usage_error "--agent-listen must be HOST:PORT with a port from 1 to 65535, got $AGENT_LISTEN"
}

# A kept hostd.yaml is not rewritten: a --name or --agent-listen it does not hold is refused, not
# silently ignored. $1: the YAML key's line prefix, $2: the value given, $3: the option.
check_kept_value() {
  [ -n "$2" ] || return 0
  grep -qxF "$1\"$2\"" "$CONFIG" && return 0
  die "$CONFIG (kept from an earlier install) does not have $3 $2: edit it and restart hostd, or --uninstall and install again"
}

is_root() { [ "$(id -u)" = 0 ]; }
systemd_runs() { [ -d "$SYSTEMD_RUNTIME" ]; }

find_node() {
  NODE=$(command -v node 2>/dev/null) || die "Node.js 20 or later is needed and node is not on PATH ($PATH): install it (your distribution's nodejs package, or https://nodejs.org) and run this again"
  node_version=$("$NODE" -e 'process.stdout.write(process.versions.node)' 2>/dev/null) || die "$NODE does not run"
  node_major=${node_version%%.*}
  case $node_major in
    ''|*[!0-9]*) die "cannot tell the version of $NODE (it says \"$node_version\")" ;;
  esac
  [ "$node_major" -ge 20 ] || die "Node.js $node_version ($NODE) is too old: hostd needs Node.js 20 or later"
  PLATFORM=$("$NODE" -e 'process.stdout.write(process.platform + "-" + process.arch)')
}

# The pids (and command lines) of processes running DAEMON (hostd.mjs, agentd.mjs) from this prefix.
running_from_prefix() {
  [ -d /proc ] || return 0
  for proc in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' < "$proc/cmdline" 2>/dev/null) || continue
    case $cmd in
      *" $PREFIX/current/$1 "*|*" $PREFIX/versions/"*"/$1 "*|*" $PREFIX/bin/$1 "*) printf '%s %s\n' "${proc#/proc/}" "$cmd" ;;
    esac
  done
}

unit_main_pid() {
  if systemd_runs && [ -f "$UNIT_FILE" ]; then
    "$SYSTEMCTL" show -p MainPID --value "$UNIT" 2>/dev/null || echo 0
  else
    echo 0
  fi
}

# A hostd already running from this prefix, but not as the unit's main process (started by hand):
# a second one would share its identity and agentd. Refused before anything is changed.
refuse_stray_hostd() {
  main_pid=$(unit_main_pid)
  stray=$(running_from_prefix hostd.mjs | awk -v main="$main_pid" '$1 != main { print; exit }')
  [ -z "$stray" ] || die "hostd already runs from $PREFIX outside systemd (pid $stray): stop it (kill ${stray%% *}), then run this again"
  warn_other_hostd
}

# A hostd installed some other way (another prefix, the opsctl package) is not refused, but it would
# enroll under the same name and want agentd's port: say so.
warn_other_hostd() {
  [ -d /proc ] || return 0
  for proc in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' < "$proc/cmdline" 2>/dev/null) || continue
    case $cmd in
      *" $PREFIX/"*) ;;
      *"/hostd.mjs "*|*"/bin/hostd.js "*|*"/bin/hostd "*)
        printf 'opsctl install: warning: another hostd runs on this host (pid %s: %s); both would use agentd'\''s port and one node name\n' "${proc#/proc/}" "$cmd" >&2 ;;
    esac
  done
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
  else "$NODE" -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))' "$1"
  fi
}

# The manager's own CA is in no trust store here: the pin is the trust (curl checks it with -k too).
fetch() {
  if [ -n "$PIN" ]; then
    curl -fsS --proto '=https' -k --pinnedpubkey "$PIN" -o "$2" "$1"
  else
    curl -fsS -o "$2" "$1"
  fi
}

# Checks an unpacked bundle as proto/host-bundle.ts verifyBundleDir does (docs/host-bundle.md): the
# manifest's version, each listed file a regular file of its size and SHA-256, and nothing else.
VERIFY_BUNDLE_JS=$(cat <<'EOF'
const fs = require("fs"), path = require("path"), crypto = require("crypto");
const [dir, version] = process.argv.slice(1);
const fail = (m) => { console.error("opsctl install: error: " + dir + ": " + m); process.exit(1); };
let m;
try { m = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")); } catch (e) { fail("manifest.json: " + e.message); }
if (m.format !== 1) fail("manifest.json format " + JSON.stringify(m.format) + " is not 1");
if (m.version !== version) fail("manifest.json says version " + m.version + ", the manager " + version);
if (!Array.isArray(m.files) || m.files.length === 0) fail("manifest.json lists no files");
const listed = new Set(["manifest.json"]);
for (const f of m.files) {
  const p = f && f.path;
  if (typeof p !== "string" || p === "manifest.json" || /[\\\0]/.test(p) || p.split("/").some((s) => s === "" || s === "." || s === "..")) fail("manifest.json lists a bad path " + JSON.stringify(p));
  const st = fs.lstatSync(path.join(dir, p), { throwIfNoEntry: false });
  if (!st || !st.isFile()) fail(p + " is listed in manifest.json but missing or not a regular file");
  const data = fs.readFileSync(path.join(dir, p));
  if (data.length !== f.size || crypto.createHash("sha256").update(data).digest("hex") !== f.sha256) fail(p + " does not match its size and SHA-256 in manifest.json");
  listed.add(p);
}
const walk = (rel) => fs.readdirSync(path.join(dir, rel), { withFileTypes: true })
  .flatMap((e) => { const r = rel ? rel + "/" + e.name : e.name; return e.isDirectory() ? walk(r) : [r]; });
const extra = walk("").filter((p) => !listed.has(p));
if (extra.length > 0) fail("not listed in manifest.json: " + extra.join(", "));
EOF
)

verify_bundle() { "$NODE" -e "$VERIFY_BUNDLE_JS" "$1" "$VERSION"; }

pick_bundle() {
  [ -n "$BUNDLES" ] || die "the manager has no host bundle to give: on the manager, run npm run package (it writes dist-package/; install.bundleDir says where the manager looks)"
  line=$(printf '%s\n' "$BUNDLES" | awk -v p="$PLATFORM" '$1 == p { print; exit }')
  [ -n "$line" ] || die "the manager has no bundle for $PLATFORM (it has: $(printf '%s\n' "$BUNDLES" | awk '{ printf "%s ", $1 }')): build one with npm run package on a $PLATFORM machine and put it in the manager's install.bundleDir"
  BUNDLE_SHA256=$(printf '%s\n' "$line" | awk '{ print $2 }')
  BUNDLE_FILE=$(printf '%s\n' "$line" | awk '{ print $3 }')
}

# An existing prefix must be one this script made: --uninstall removes it whole.
check_prefix_is_ours() {
  if [ -e "$PREFIX" ] && [ ! -f "$PREFIX/$MARKER" ] && [ -n "$(ls -A "$PREFIX" 2>/dev/null)" ]; then
    die "$PREFIX exists and was not made by this script (no $MARKER in it): choose a new or empty folder with --prefix"
  fi
}

# Downloads and checks the bundle, unpacks and checks it into versions/VERSION, unless that is
# already there and whole. Sets CHANGED=1 when current moved to another version.
install_version() {
  target=$PREFIX/versions/$VERSION
  if [ -d "$target" ] && verify_bundle "$target" 2>/dev/null; then
    say "$target is already installed and matches its manifest: nothing downloaded"
  else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/opsctl-install.XXXXXX")
    fetch "$MANAGER_URL/bundles/$BUNDLE_FILE" "$WORK/$BUNDLE_FILE" || die "downloading $MANAGER_URL/bundles/$BUNDLE_FILE failed (curl's message above); nothing was installed"
    actual=$(sha256_of "$WORK/$BUNDLE_FILE")
    [ "$actual" = "$BUNDLE_SHA256" ] || die "$BUNDLE_FILE has SHA-256 $actual, but the manager's install.sh says $BUNDLE_SHA256: not unpacking it; nothing was installed"
    say "downloaded $BUNDLE_FILE (SHA-256 $BUNDLE_SHA256 matches)"
    [ -e "$PREFIX" ] || PREFIX_CREATED=1
    mkdir -p "$PREFIX/versions"
    [ -f "$PREFIX/$MARKER" ] || printf 'installed from %s\n' "$MANAGER_URL" > "$PREFIX/$MARKER"
    STAGE=$(mktemp -d "$PREFIX/versions/.unpack.XXXXXX")
    tar -xzf "$WORK/$BUNDLE_FILE" -C "$STAGE" --no-same-owner || die "unpacking $BUNDLE_FILE failed"
    verify_bundle "$STAGE" || die "the unpacked bundle does not match its manifest (above): not installed"
    chmod 755 "$STAGE"
    if [ -d "$target" ]; then rm -rf "$target"; fi
    mv "$STAGE" "$target"
    STAGE=
    say "unpacked to $target (every file matches manifest.json)"
  fi
  previous=$(readlink "$PREFIX/current" 2>/dev/null || true)
  CHANGED=0
  if [ "$previous" != "versions/$VERSION" ]; then
    # A new link renamed over the old one: current is never missing, even for a moment.
    rm -f "$PREFIX/.current.new"
    ln -s "versions/$VERSION" "$PREFIX/.current.new"
    "$NODE" -e 'require("fs").renameSync(process.argv[1], process.argv[2])' "$PREFIX/.current.new" "$PREFIX/current"
    say "$PREFIX/current -> versions/$VERSION${previous:+ (was $previous)}"
    [ -z "$previous" ] || CHANGED=1
  fi
  # Installed: from here on a failure (say, no enrollment in time) leaves it for a second run to finish.
  PREFIX_CREATED=0
}

# The update section of hostd.yaml: the release keys hostd trusts (configs/hostd.yaml).
trusted_keys_yaml() {
  printf 'update:\n  # Release keys whose signatures this host accepts for updates (opsctl release keygen).\n'
  if [ -z "${TRUST_KEYS# }" ]; then printf '  trustedKeys: []\n'; return; fi
  printf '  trustedKeys:\n'
  for key in $TRUST_KEYS; do printf '    - "%s"\n' "$key"; done
}

# A kept hostd.yaml gets the keys given now only when it has no update section: an operator's edit wins.
add_trusted_keys() {
  [ -n "${TRUST_KEYS# }" ] || return 0
  if grep -q '^update:' "$CONFIG"; then
    say "kept the update section of $CONFIG: add the keys given with --trust-key to update.trustedKeys there yourself"
    return 0
  fi
  (umask 077 && { cat "$CONFIG"; trusted_keys_yaml; } > "$CONFIG.new")
  mv "$CONFIG.new" "$CONFIG"
  say "added update.trustedKeys to $CONFIG"
}

# The launcher systemd runs, from the bundle but outside versions/ (scripts/hostd-launch.sh says why).
install_launcher() {
  mkdir -p "$PREFIX/bin"
  cp "$PREFIX/versions/$VERSION/hostd-launch.sh" "$LAUNCHER.new"
  chmod 755 "$LAUNCHER.new"
  mv "$LAUNCHER.new" "$LAUNCHER"
}

write_config() {
  if [ -f "$CONFIG" ]; then
    # Not enrolled yet (the token was refused, say): a new token replaces the old one, nothing else.
    if [ "$enrolled" = 0 ] && [ -n "${OPS_ENROLL_TOKEN:-}" ] && ! grep -q "^  token: \"$OPS_ENROLL_TOKEN\"\$" "$CONFIG"; then
      (umask 077 && sed "s/^  token: .*/  token: \"$OPS_ENROLL_TOKEN\"/" "$CONFIG" > "$CONFIG.new")
      mv "$CONFIG.new" "$CONFIG"
      say "kept $CONFIG, with the new enrollment token (this host has not enrolled yet)"
      return
    fi
    say "kept $CONFIG (written by an earlier install)"
    add_trusted_keys
    return
  fi
  mkdir -p "$PREFIX/etc"
  chmod 700 "$PREFIX/etc"
  # The token sits in this file until hostd has enrolled: the file is root's (or yours) alone.
  (umask 077 && cat > "$CONFIG.new" <<EOF
# hostd configuration, written by the opsctl install script from $MANAGER_URL.
# A second install keeps this file. Every option: hostd --help (configs/hostd.yaml in opsctl).
dataDir: $DATA
manager:
  address: "$GRPC_ADDRESS"
  caHash: "$CA_HASH"
enroll:
  # Used once, at the first start; ignored once dataDir holds the identity hostd enrolled with.
  token: "${OPS_ENROLL_TOKEN:-}"
$(trusted_keys_yaml)
EOF
  # Unset: hostd's defaults (this host's name, 127.0.0.1:8442).
  [ -z "$NODE_NAME" ] || printf 'node:\n  # The name this host enrolls as (install.sh --name).\n  name: "%s"\n' "$NODE_NAME" >> "$CONFIG.new"
  [ -z "$AGENT_LISTEN" ] || printf 'agent:\n  # The address of agentd'"'"'s HTTP API (install.sh --agent-listen).\n  listen: "%s"\n' "$AGENT_LISTEN" >> "$CONFIG.new"
  )
  mv "$CONFIG.new" "$CONFIG"
  say "wrote $CONFIG"
}

write_unit() {
  mkdir -p "$SYSTEMD_DIR"
  cat > "$UNIT_FILE.new" <<EOF
# opsctl hostd, installed by the opsctl install script from $MANAGER_URL; its --uninstall removes it.
[Unit]
Description=opsctl hostd: links this host to the opsctl manager and supervises agentd
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
# The launcher runs node PREFIX/current/hostd.mjs, and reverts an update whose new hostd cannot
# stay up; hostd exits by itself after swapping versions, so it is always restarted.
ExecStart=$LAUNCHER --config $CONFIG
Environment=OPS_NODE=$NODE
WorkingDirectory=$PREFIX
# hostd starts agentd in a session of its own, and a restarted hostd adopts it: stopping or
# restarting hostd must not kill agentd (and the tasks it runs), so only the main process is killed.
KillMode=process
Restart=always
RestartSec=2
LimitNOFILE=65536
# Fewer malloc arenas: glibc's default (8 per core) costs a small daemon many MB of memory.
Environment=MALLOC_ARENA_MAX=2

[Install]
WantedBy=multi-user.target
EOF
  if [ -f "$UNIT_FILE" ] && cmp -s "$UNIT_FILE.new" "$UNIT_FILE"; then
    rm -f "$UNIT_FILE.new"
    say "kept $UNIT_FILE (unchanged)"
    UNIT_CHANGED=0
  else
    mv "$UNIT_FILE.new" "$UNIT_FILE"
    say "wrote $UNIT_FILE"
    UNIT_CHANGED=1
  fi
  "$SYSTEMCTL" daemon-reload
}

start_command() { printf 'OPS_NODE=%s %s --loop --config %s' "$NODE" "$LAUNCHER" "$CONFIG"; }

start_hostd() {
  if "$SYSTEMCTL" is-active --quiet "$UNIT" 2>/dev/null; then
    if [ "$CHANGED" = 1 ] || [ "$UNIT_CHANGED" = 1 ]; then
      "$SYSTEMCTL" restart "$UNIT"
      say "restarted $UNIT (a new version or unit; agentd keeps running and is adopted)"
    else
      say "$UNIT is already running: left as it is"
    fi
    "$SYSTEMCTL" enable "$UNIT" >/dev/null 2>&1 || true
  else
    "$SYSTEMCTL" enable --now "$UNIT"
    say "enabled and started $UNIT"
  fi
}

node_name() { "$NODE" -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).nodeName))' "$DATA/node.json"; }

wait_for_enrollment() {
  waited=0
  while [ ! -f "$DATA/node.json" ]; do
    # hostd exits when the manager refuses the token (systemd then restarts it, to no avail).
    "$SYSTEMCTL" is-active --quiet "$UNIT" || die "hostd stopped before it enrolled (a used, expired or unknown token?): journalctl -u $UNIT says why. Fix it, then run this again; the install is kept"
    if [ "$waited" -ge "$ENROLL_SECONDS" ]; then
      die "hostd runs but has not enrolled within ${ENROLL_SECONDS}s: see journalctl -u $UNIT. A name already enrolled with another key waits for an operator: opsctl nodes approve ${NODE_NAME:-$(uname -n)}"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  say "enrolled with the manager as $(node_name)"
}

install_main() {
  if ! is_root && [ "$START" = 1 ]; then
    die "run this as root (sudo): it installs and starts a systemd unit. Without root: --prefix DIR --no-start installs into a folder you own and prints how to start hostd"
  fi
  find_node
  pick_bundle
  check_prefix_is_ours
  enrolled=0
  [ -f "$DATA/node.json" ] && enrolled=1
  if [ ! -f "$CONFIG" ] && [ "$enrolled" = 0 ] && [ -z "${OPS_ENROLL_TOKEN:-}" ]; then
    die "OPS_ENROLL_TOKEN is not set: create a token with opsctl nodes token create and run the command it prints"
  fi
  # It goes into hostd.yaml (and through sed): nothing but a token's characters.
  case ${OPS_ENROLL_TOKEN:-} in
    *[!A-Za-z0-9_-]*) die "OPS_ENROLL_TOKEN is not a token from opsctl nodes token create (letters, digits, - and _ only)" ;;
  esac
  if [ -f "$CONFIG" ]; then
    check_kept_value '  name: ' "$NAME_OPTION" --name
    check_kept_value '  listen: ' "$LISTEN_OPTION" --agent-listen
  fi
  refuse_stray_hostd

  install_version
  install_launcher
  write_config
  mkdir -p "$DATA"
  chmod 700 "$DATA"
  UNIT_CHANGED=0
  if ! is_root; then
    say "not root: no systemd unit. Start hostd with: $(start_command)"
  elif ! systemd_runs; then
    say "systemd is not running on this host ($SYSTEMD_RUNTIME is missing): no unit installed. Start hostd with: $(start_command)"
  else
    write_unit
    if [ "$START" = 1 ]; then
      start_hostd
      if [ "$enrolled" = 1 ]; then say "already enrolled as $(node_name): not enrolling again"; else wait_for_enrollment; fi
      return
    fi
    say "not started (--no-start). Start it with: $SYSTEMCTL enable --now $UNIT"
  fi
  [ "$enrolled" = 0 ] || say "already enrolled as $(node_name)"
}

# TERM, then KILL after 10 s, to every DAEMON process running from the prefix.
stop_from_prefix() {
  pids=$(running_from_prefix "$1" | awk '{ print $1 }' | tr '\n' ' ')
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086
  kill $pids 2>/dev/null || true
  tries=0
  while [ "$tries" -lt 50 ] && [ -n "$(running_from_prefix "$1")" ]; do
    sleep 0.2 2>/dev/null || sleep 1
    tries=$((tries + 1))
  done
  left=$(running_from_prefix "$1" | awk '{ print $1 }' | tr '\n' ' ')
  # shellcheck disable=SC2086
  [ -z "$left" ] || kill -9 $left 2>/dev/null || true
  say "stopped $1 (pid ${pids% })"
}

uninstall_main() {
  if [ -e "$PREFIX" ] && [ ! -f "$PREFIX/$MARKER" ]; then
    die "$PREFIX was not made by this script (no $MARKER in it): not removing it"
  fi
  if [ -f "$UNIT_FILE" ]; then
    if grep -q " $PREFIX/current/hostd.mjs \|=$PREFIX/bin/hostd-launch " "$UNIT_FILE"; then
      is_root || die "run this as root (sudo): $UNIT_FILE is to be removed"
      if systemd_runs; then "$SYSTEMCTL" disable --now "$UNIT" || true; fi
      rm -f "$UNIT_FILE"
      if systemd_runs; then "$SYSTEMCTL" daemon-reload || true; fi
      say "stopped, disabled and removed $UNIT_FILE"
    else
      say "left $UNIT_FILE: it runs hostd from another prefix"
    fi
  fi
  # The launcher first (its --loop would start hostd again), then hostd.
  stop_from_prefix hostd-launch
  stop_from_prefix hostd.mjs
  # agentd outlives hostd by design (KillMode=process): it goes now, by its own pid.
  stop_from_prefix agentd.mjs
  if [ ! -e "$PREFIX" ]; then
    say "nothing installed at $PREFIX"
    return
  fi
  name=
  [ ! -f "$DATA/node.json" ] || name=$(node_name 2>/dev/null || true)
  rm -rf "$PREFIX"
  say "removed $PREFIX"
  [ -z "$name" ] || say "the manager still knows node $name: opsctl nodes rm $name"
}

# On failure a prefix this run created goes too: a failed first install leaves nothing behind.
cleanup() {
  [ -z "${STAGE:-}" ] || rm -rf "$STAGE"
  [ "$status" = 0 ] || [ "${PREFIX_CREATED:-0}" = 0 ] || rm -rf "$PREFIX"
  [ -z "${WORK:-}" ] || rm -rf "$WORK"
  for leftover in "${UNIT_FILE:-}.new" "${CONFIG:-}.new" "${LAUNCHER:-}.new"; do
    [ ! -e "$leftover" ] || rm -f "$leftover"
  done
}

main() {
  parse_args "$@"
  STAGE=
  WORK=
  PREFIX_CREATED=0
  # The script's own exit status, whatever the clean-up's last command returned.
  trap 'status=$?; set +e; cleanup; exit $status' EXIT
  trap 'exit 130' INT TERM
  if [ "$UNINSTALL" = 1 ]; then
    find_node_for_uninstall
    uninstall_main
  else
    install_main
  fi
}

# --uninstall needs node only to name the enrolled node; it works without.
find_node_for_uninstall() { NODE=$(command -v node 2>/dev/null || echo node); }

main "$@"
