#!/bin/sh
# Runs Node.js >= 22 with the given arguments, without the user editing PATH.
# Order: $MESHPROOF_NODE, the project-local Node installed by scripts/setup.sh
# (.tools/node), then `node` on PATH. The chosen Node's folder is put first on PATH
# so that child processes (mocha workers, tsc, our own spawns) use the same Node.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
min_major=22

major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

for candidate in "${MESHPROOF_NODE:-}" "$root/.tools/node/bin/node" "$(command -v node 2>/dev/null || true)"; do
  [ -n "$candidate" ] && [ -x "$candidate" ] || continue
  if [ "$(major_of "$candidate")" -ge "$min_major" ]; then
    PATH="$(dirname "$candidate"):$PATH"
    export PATH
    exec "$candidate" "$@"
  fi
done

found=$(command -v node 2>/dev/null && node -v 2>/dev/null || echo "none")
echo "meshproof: needs Node.js >= $min_major, found: $found" >&2
echo "meshproof: run 'sh scripts/setup.sh' to install Node 24 into .tools/node (no PATH change needed)," >&2
echo "meshproof: or set MESHPROOF_NODE to a Node >= $min_major binary." >&2
exit 127
