#!/usr/bin/env bash
# The issue 6 speed table on the GPU machine: writes random-weight Llama GGUFs
# (scripts/make_random_llama_gguf.py, F16), quantizes them with the carried `wick quantize`, and
# runs `wick bench -p 512 -n 128 --device cuda` on each, after the device copy-bandwidth bench.
# usage: cuda_bench_models.sh CARRY SPEC...   SPEC: {8b,1b}-{f16,q8_0,q4_0}, e.g. 8b-q4_0
# Files go to /tmp/wick-models (reused within one machine lease); logs to $OUT.
set -u -o pipefail
carry=${1:-.carry}
shift
out=${OUT:-cuda-logs}
mkdir -p "$out"
source "$(dirname "$0")/cuda_env.sh" "$carry"
work=/tmp/wick-models
mkdir -p "$work"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee -a "$out/bench_models.log"
if [ -x "$carry/wick_backend_tests" ]; then
  WICK_CUDA_BENCH=1 "$carry/wick_backend_tests" --gtest_filter='CudaBench.*' 2>&1 |
    grep -iE "copy|GB/s" | head -8 | tee -a "$out/bench_models.log"
fi
for spec in "$@"; do
  shape=${spec%%-*}
  type=${spec#*-}
  f16="$work/$shape-f16.gguf"
  [ -f "$f16" ] || python3 scripts/make_random_llama_gguf.py "$shape" "$f16" || exit 1
  file="$f16"
  if [ "$type" != f16 ]; then
    file="$work/$shape-$type.gguf"
    [ -f "$file" ] || "$carry/wick" quantize "$f16" "$file" --type "$type" --pure -q || exit 1
  fi
  echo "== $spec: $(du -h "$file" | cut -f1)" | tee -a "$out/bench_models.log"
  "$carry/wick" bench -m "$file" -p 512 -n 128 -r 3 --device cuda 2>&1 | tee -a "$out/bench_models.log"
done
