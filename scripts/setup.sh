#!/usr/bin/env bash
# Installs what the build needs and is missing, on a machine with rustup + Node:
# the wasm32 target, wasm-bindgen-cli at the version pinned in Cargo.lock, and
# node_modules. Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown Rust target"
  rustup target add wasm32-unknown-unknown
fi

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ -z "$want" ]; then
  echo "setup: could not find wasm-bindgen in Cargo.lock" >&2
  exit 1
fi
if [ "$have" != "$want" ]; then
  echo "setup: installing wasm-bindgen-cli $want (found: ${have:-none}; about 5 minutes, once)"
  # Not --locked: the CLI's own lock file pins crates that crates.io no
  # longer serves (webpki-roots 1.0.11), so a locked install fails on every
  # fresh machine. The CLI's version is still the one Cargo.lock pins, which
  # is what has to match the `wasm-bindgen` crate; only its own dependencies
  # are resolved afresh.
  cargo install --quiet wasm-bindgen-cli --version "$want"
fi

if [ ! -d node_modules ]; then
  echo "setup: installing npm dev dependencies"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi
