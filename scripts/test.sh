#!/usr/bin/env bash
# Builds wick and runs every test: the release build (warnings as errors) under ctest, then each
# libFuzzer target briefly under ASan/UBSan. Assumes .ci/install-deps has run. Tests that need
# the real models (scripts/fetch-models.sh) skip with a message when models/ is empty.
#   scripts/test.sh            full run
#   WICK_FUZZ_SECONDS=0 scripts/test.sh   skip the fuzz smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
fuzz_seconds=${WICK_FUZZ_SECONDS:-20}

echo "== build (preset ci: release, -Werror)"
cmake --preset ci >/dev/null
cmake --build --preset ci -j"$jobs"

echo "== unit, golden and model tests"
# The constrained generations of wick_constrain_tests land here and are then checked with the
# independent Python jsonschema validator (pip install -r scripts/requirements-golden.txt).
export WICK_CONSTRAIN_OUT="$PWD/build/ci/constrain_outputs.jsonl"
rm -f "$WICK_CONSTRAIN_OUT"
ctest --preset ci -j"$jobs" --timeout 900
if [[ -s "$WICK_CONSTRAIN_OUT" ]] && python3 -c "import jsonschema" 2>/dev/null; then
  echo "== constrained outputs vs Python jsonschema"
  python3 tests/constrain/validate_schemas.py "$WICK_CONSTRAIN_OUT"
fi

# The server suite drives the real `wick serve` (tests/serve/pytest); it needs
# scripts/requirements-serve.txt and the SmolLM2 GGUF (scripts/fetch-models.sh).
if python3 -c "import openai, pytest, requests, websockets" 2>/dev/null &&
  [[ -f models/SmolLM2-135M-Instruct.Q4_1.gguf ]]; then
  echo "== server tests (pytest against wick serve)"
  WICK_BIN=build/ci/apps/wick/wick python3 -m pytest -q tests/serve/pytest
else
  echo "== server tests skipped (pip install -r scripts/requirements-serve.txt; fetch the models)"
fi

if command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]]; then
  # CI has the CUDA toolkit but no GPU: compile the CUDA backend (sm_90 only) so it stays
  # buildable; its tests run on the GPU machine (docs/cuda.md).
  echo "== compile the CUDA backend (sm_90)"
  export PATH="$PATH:/usr/local/cuda/bin"
  cmake --preset cuda -DWICK_WERROR=ON -DWICK_TESTS=OFF -DWICK_BENCH=OFF >/dev/null
  cmake --build build/cuda -j"$jobs" --target wick_cuda_kernels
else
  echo "== no nvcc: CUDA backend not compiled"
fi

shopt -s nullglob
fuzzers=()
for src in fuzz/*_fuzz.cpp; do fuzzers+=("$(basename "$src" .cpp)"); done
if [[ "$fuzz_seconds" != 0 ]] && command -v clang++ >/dev/null && ((${#fuzzers[@]})); then
  echo "== fuzz smoke run (${fuzz_seconds}s per target, ASan+UBSan)"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j"$jobs" --target "${fuzzers[@]}"
  for src in fuzz/*_fuzz.cpp; do
    name=$(basename "$src" .cpp)
    corpus="fuzz/corpus/$name"
    work=$(mktemp -d)
    [[ -d "$corpus" ]] && cp -r "$corpus"/. "$work"/
    echo "-- $name"
    "build/fuzz/fuzz/$name" -max_total_time="$fuzz_seconds" -rss_limit_mb=4096 -timeout=20 \
      -print_final_stats=0 "$work" 2>&1 | tail -n 3
    rm -rf "$work"
  done
fi
echo "== all tests passed"
