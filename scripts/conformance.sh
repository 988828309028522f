#!/bin/sh
# The main job from a fresh clone, in one command: sets up whatever is missing (Node.js >= 22,
# a Docker engine, Envoy, the npm packages; see scripts/setup.sh), saying what it does, then runs
# the conformance suites. Arguments are passed to `meshproof run` (e.g. --suite mtls --seed 42).
# Exit code: meshproof run's (0 no promise broken, 1 broken, 2 bad input, 3 infrastructure),
# or setup's when the machine cannot be set up.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
sh "$root/scripts/setup.sh" --no-browser
echo "conformance: ./bin/meshproof run $*"
exec sh "$root/bin/meshproof" run "$@"
