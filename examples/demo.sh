#!/usr/bin/env bash
# pqsign end-to-end demo: a real key, a real signature, a real verification,
# and a tampered file that is rejected. Runs in a temporary directory.
set -euo pipefail

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
export PQSIGN_PASSWORD="demo passphrase, use a real one"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step pqsign algorithms
step pqsign key generate --output alice --comment "Alice (release manager)"
step pqsign key show alice.pub
head -c 20000000 /dev/urandom > app-1.0.tar.gz
step pqsign sign app-1.0.tar.gz --key alice.key
step pqsign keyring add team.keys alice.pub --name Alice --email alice@example.com
step pqsign verify app-1.0.tar.gz --keyring team.keys
step pqsign --json verify app-1.0.tar.gz --keyring team.keys

printf '\n\033[1m# someone slips one byte into the release...\033[0m\n'
printf 'x' | dd of=app-1.0.tar.gz bs=1 seek=1000 conv=notrunc status=none
set +e
step pqsign verify app-1.0.tar.gz --keyring team.keys
code=$?
set -e
if [ "$code" -ne 1 ]; then
    echo "demo FAILED: the tampered file was not rejected with exit code 1 (got $code)" >&2
    exit 1
fi
printf '\n\033[1mdemo OK: the signed file verified, the tampered one was rejected (exit 1).\033[0m\n'
