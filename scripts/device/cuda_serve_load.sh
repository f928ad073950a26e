#!/usr/bin/env bash
# Issue 7's GPU load figures: for each SPEC ({1b,8b}-{f16,q8_0,q4_0}) writes the random-weight
# Llama GGUF (as cuda_bench_models.sh, cached in /tmp/wick-models), starts
# `wick serve --device cuda --max-batch 128`, and runs scripts/serve_load.py at concurrency
# 1, 8, 32 and 128 with 128-token prompts (token ids) and 128 generated tokens (ignore_eos).
# usage: cuda_serve_load.sh CARRY SPEC...   (env: SERVE_ARGS adds flags to wick serve,
# LOAD_SCRIPT overrides the path of serve_load.py). Logs go to $OUT.
set -u -o pipefail
carry=${1:-.carry}
shift
out=${OUT:-cuda-logs}
mkdir -p "$out"
source "$(dirname "$0")/cuda_env.sh" "$carry"
load=${LOAD_SCRIPT:-scripts/serve_load.py}
work=/tmp/wick-models
mkdir -p "$work"
port=18321
rc=0
for spec in "$@"; do
  shape=${spec%%-*}
  type=${spec#*-}
  f16="$work/$shape-f16.gguf"
  [ -f "$f16" ] || python3 "${MAKE_GGUF:-scripts/make_random_llama_gguf.py}" "$shape" "$f16" || exit 1
  file="$f16"
  if [ "$type" != f16 ]; then
    file="$work/$shape-$type.gguf"
    [ -f "$file" ] || "$carry/wick" quantize "$f16" "$file" --type "$type" --pure -q || exit 1
  fi
  log="$out/serve-$spec.log"
  "$carry/wick" serve -m "$file" --device cuda --port $port --model-name "$spec" \
    --max-batch 128 ${SERVE_ARGS:-} > "$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1 && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.5
  done
  echo "== $spec ($(du -h "$file" | cut -f1)) ${SERVE_ARGS:-}" | tee -a "$out/serve_load.log"
  head -3 "$log" | tee -a "$out/serve_load.log"
  PYTHONUNBUFFERED=1 python3 "$load" --url "http://127.0.0.1:$port" --concurrency 1 8 32 128 \
    --prompt-tokens 128 --max-tokens 128 --prompt-ids 2>&1 | tee -a "$out/serve_load.log" || rc=1
  kill -TERM $pid 2>/dev/null
  wait $pid 2>/dev/null
  tail -2 "$log" | tee -a "$out/serve_load.log"
done
exit $rc
