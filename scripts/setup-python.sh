#!/usr/bin/env bash
# The Python readers the export round-trip test checks our files with
# (tests/export.rs python_readers_agree_when_available): nibabel, pynrrd,
# numpy and Pillow from PyPI, in a venv at .venv-test. Used by .ci/run;
# locally: bash scripts/setup-python.sh && VOXDROP_PYTHON=.venv-test/bin/python cargo test --release --test export
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-test
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import nibabel, nrrd, numpy, PIL' 2>/dev/null; then
  exit 0
fi
if ! command -v python3 >/dev/null || ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  # Debian keeps venv/ensurepip in a package of its own.
  apt-get update -q
  apt-get install -y -q --no-install-recommends python3 python3-venv
fi
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check \
  nibabel==5.4.2 pynrrd==1.1.3 numpy==2.4.6 pillow==13.0.0
"$VENV/bin/python" -c 'import nibabel, nrrd, numpy, PIL; print("python readers:", nibabel.__version__, nrrd.__version__, numpy.__version__, PIL.__version__)'
