#!/usr/bin/env bash
# Dependency checks, run by scripts/test.sh (and alone: bash scripts/audit.sh):
#   - npm audit of the runtime dependencies (the npm registry is reachable);
#   - cargo deny: licences, bans and sources against deny.toml;
#     RustSec advisories only when a local advisory database exists
#     (it is fetched from GitHub, which this CI cannot reach; see SECURITY.md).
# Works from an empty cargo registry cache: `cargo fetch` first downloads
# every crate Cargo.lock names for every platform (a build downloads only
# this machine's and wasm's, and cargo-deny reads them all), then cargo-deny
# runs offline so that it never tries GitHub.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "audit: npm audit --omit=dev"
npm audit --omit=dev

bash scripts/setup-test.sh deny
deny=$(command -v cargo-deny || echo "$PWD/.venv-test/bin/cargo-deny")

echo "audit: cargo fetch --locked (every platform's crates, for cargo-deny)"
cargo fetch --locked --quiet
echo "audit: cargo deny check licenses bans sources ($("$deny" --version))"
"$deny" --offline check licenses bans sources

db="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
# A database is a cloned advisory-db directory with its crates/ folder; a
# failed fetch leaves only a lock file, which is not one.
if compgen -G "$db/*/crates" >/dev/null; then
  echo "audit: cargo deny check advisories (local database, not refreshed)"
  "$deny" --offline check advisories
else
  echo "audit: NOTE: no RustSec advisory database at $db (GitHub is unreachable here);"
  echo "audit:       advisories were NOT checked. See SECURITY.md."
fi
