#!/usr/bin/env bash
# Run every fuzz target for a bounded time, one after another, seeded from
# ../shared/corpus (fuzz/seeds.py), and print one line per target.
# Usage (from the repository root): bash fuzz/run-all.sh [SECONDS_PER_TARGET] [TARGET...]
# Needs nightly and cargo-fuzz (see SECURITY.md). A finding stops that target;
# its input is in fuzz/artifacts/TARGET/ — keep it under tests/fuzz_regressions/.
set -uo pipefail
secs=${1:-120}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
[ -d fuzz/seeds ] || python3 fuzz/seeds.py
cargo +nightly fuzz build -O 2>/dev/null
# The built binaries are run directly, so editing the sources meanwhile does
# not trigger a rebuild between targets.
bin=fuzz/target/x86_64-unknown-linux-gnu/release
mkdir -p fuzz/logs
printf '%-22s %10s %8s %s\n' target executions seconds result
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  seeds=()
  [ -d "fuzz/seeds/$t" ] && seeds=("fuzz/seeds/$t")
  start=$(date +%s)
  # -malloc_limit_mb: any single allocation above 256 MiB is a finding (the
  # targets' limits allow 64 MiB of voxels); -timeout: 2 s per input.
  mkdir -p "fuzz/artifacts/$t"
  "$bin/$t" -artifact_prefix="fuzz/artifacts/$t/" "fuzz/corpus/$t" "${seeds[@]}" \
    -max_total_time="$secs" -timeout=2 -rss_limit_mb=2048 -malloc_limit_mb=256 \
    -print_final_stats=1 >"fuzz/logs/$t.log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "fuzz/logs/$t.log" | grep -o '[0-9]*$' | tail -1)
  if [ $rc -eq 0 ]; then result=clean; else
    result="FINDING: $(grep -m1 -E '^==[0-9]+== ?ERROR|deadly signal|panicked at|out-of-memory|malloc\(|timeout' "fuzz/logs/$t.log" | cut -c1-120)"
  fi
  printf '%-22s %10s %8s %s\n' "$t" "${runs:-?}" "$took" "$result"
done
