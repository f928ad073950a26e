#!/usr/bin/env bash
# Runs the CUDA backend's tests (op parity vs the CPU reference, backend tests) and, with
# --bench, the decode-speed timings, on the GPU machine, from a build made on a machine without
# a GPU. Expects the carried folder made by scripts/device/pack_cuda_tests.sh: the test binary
# and the shared libraries the machine lacks (fmt, pcre2, utf8proc). cuBLAS is the machine's own
# (the CUDA 13 toolkit or torch's nvidia-cublas wheel). Logs go to $OUT (or ./cuda-logs).
set -u -o pipefail
carry=${1:-.carry}
bench=${2:-}
out=${OUT:-cuda-logs}
mkdir -p "$out"
cublas=$(find /usr/local/cuda/lib64 /usr/local/cuda*/targets /usr/lib /usr/local/lib -name 'libcublas.so.13' 2>/dev/null | head -1)
[ -z "$cublas" ] && cublas=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))' 2>/dev/null | xargs -I{} find {} -name 'libcublas.so.13' | head -1)
export LD_LIBRARY_PATH="$carry/lib:$(dirname "${cublas:-/nonexistent/x}"):${LD_LIBRARY_PATH:-}"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  echo "cublas: ${cublas:-not found}"
  ldd "$carry/wick_backend_tests" | grep -E "not found|cublas|fmt|pcre|utf8"
} 2>&1 | tee "$out/env.txt"
"$carry/wick_backend_tests" --gtest_filter="*_cuda:Cuda*:-CudaBench.*" > "$out/tests.log" 2>&1
rc=$?
grep -E "^\[  (PASSED|FAILED|SKIPPED) |tests ran|FAILED TEST" "$out/tests.log" | tail -60
if [ "$bench" = "--bench" ]; then
  WICK_CUDA_BENCH=1 "$carry/wick_backend_tests" --gtest_filter='CudaBench.*' 2>&1 | tee "$out/bench.log"
fi
exit $rc
