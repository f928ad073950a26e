#!/usr/bin/env bash
# Runs the CUDA tests on the GPU machine from a build made on a machine without a GPU: the
# backend's (op parity vs the CPU reference, backend and attention tests) and the models' (golden
# models on the GPU, generate leak check, out-of-memory error); with --bench also the decode-speed
# timings of linear(). Expects the folder made by scripts/device/pack_cuda_tests.sh: binaries and
# the shared libraries the machine lacks (fmt, pcre2, utf8proc). cuBLAS is the machine's own
# (the CUDA 13 toolkit or torch's nvidia-cublas wheel). Logs go to $OUT (or ./cuda-logs).
set -u -o pipefail
carry=${1:-.carry}
bench=${2:-}
out=${OUT:-cuda-logs}
mkdir -p "$out"
source "$(dirname "$0")/cuda_env.sh" "$carry"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  echo "cublas: ${cublas:-not found}"
  ldd "$carry/wick_backend_tests" | grep -E "not found|cublas|fmt|pcre|utf8"
} 2>&1 | tee "$out/env.txt"
rc=0
"$carry/wick_backend_tests" --gtest_filter="*_cuda:Cuda*:-CudaBench.*" > "$out/tests.log" 2>&1 || rc=1
grep -E "^\[  (PASSED|FAILED|SKIPPED) |tests ran|FAILED TEST" "$out/tests.log" | tail -40
if [ -x "$carry/wick_models_tests" ]; then
  "$carry/wick_models_tests" --gtest_filter="*Cuda*" > "$out/models.log" 2>&1 || rc=1
  grep -E "^\[  (PASSED|FAILED|SKIPPED) |^\[       OK|tests ran|FAILED TEST|Failure|Expected|Which is|max_abs" "$out/models.log" | tail -60
fi
if [ "$bench" = "--bench" ]; then
  WICK_CUDA_BENCH=1 "$carry/wick_backend_tests" --gtest_filter='CudaBench.*' 2>&1 | tee "$out/bench.log"
fi
exit $rc
