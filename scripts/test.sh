#!/bin/sh
# The project's tests from a fresh clone, in one command: sets up whatever is missing (Node.js >= 22,
# a Docker engine, Envoy, Chromium and xmllint for the report tests, the npm packages; see
# scripts/setup.sh), saying what it does, then runs the type check, the layering check, the unit tests and the tests
# that start containers (npm test). Arguments are passed to setup.sh (e.g. --no-browser).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
sh "$root/scripts/setup.sh" "$@"
cd "$root"
started=$(date +%s)
echo "test: npm test (type check, layering check, unit tests, container tests)"
npm test
echo "test: passed in $(( $(date +%s) - started )) s"
