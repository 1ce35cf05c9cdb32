#!/usr/bin/env bash
# npm test: Rust checks and tests, TypeScript typecheck, the wasm + web build,
# then the browser tests. Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --check
step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings
step "cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings"
cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings
step "dependency audit (npm audit, cargo deny)"
bash scripts/audit.sh
step "cargo test --release"
cargo test --release
step "npm run typecheck"
npm run --silent typecheck
step "build (wasm + web)"
node scripts/build.mjs all
step "browser tests"
node --test --test-concurrency=1 tests/e2e/
