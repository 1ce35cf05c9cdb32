#!/usr/bin/env bash
# Dependency checks (issue 7), run by scripts/test.sh:
#   - npm audit of the runtime dependencies (the npm registry is reachable);
#   - cargo deny: licences, bans and sources against deny.toml, offline;
#     RustSec advisories only when a local advisory database exists
#     (it is fetched from GitHub, which this CI cannot reach; see SECURITY.md).
# cargo-deny is installed from crates.io if missing (once; takes a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "audit: npm audit --omit=dev"
npm audit --omit=dev

if ! command -v cargo-deny >/dev/null 2>&1; then
  echo "audit: installing cargo-deny from crates.io"
  cargo install --locked cargo-deny || echo "audit: WARNING: cargo-deny could not be installed; the Rust licence/ban/source check is SKIPPED in this run"
fi
if command -v cargo-deny >/dev/null 2>&1; then
  echo "audit: cargo deny check licenses bans sources (offline)"
  cargo deny --offline check licenses bans sources
fi

db="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
# A database is a cloned advisory-db directory with its crates/ folder; a
# failed fetch leaves only a lock file, which is not one.
if compgen -G "$db/*/crates" >/dev/null; then
  echo "audit: cargo deny check advisories (local database, not refreshed)"
  cargo deny --offline check advisories
else
  echo "audit: NOTE: no RustSec advisory database at $db (GitHub is unreachable here);"
  echo "audit:       advisories were NOT checked. See SECURITY.md."
fi
