#!/usr/bin/env bash
# Packs what scripts/device/cuda_tests.sh and cuda_bench_models.sh need on the GPU machine into
# one folder (default .carry, listed in .git/info/exclude): the CUDA build's test binaries and the
# wick CLI (stripped; whichever were built) and the shared libraries they link that a bare GPU
# machine lacks. Run after
#   cmake --preset cuda -B build/cuda -DWICK_BENCH=OFF
#   ninja -C build/cuda wick_backend_tests wick_models_tests wick
set -euo pipefail
build=${1:-build/cuda}
carry=${2:-.carry}
mkdir -p "$carry/lib"
for bin in tests/backends/wick_backend_tests tests/models/wick_models_tests apps/wick/wick; do
  [ -f "$build/$bin" ] || continue
  name=$(basename "$bin")
  strip -o "$carry/$name" "$build/$bin"
  for lib in $(ldd "$carry/$name" | awk '/=>/ {print $3}' | grep -E 'libfmt|libpcre2|libutf8proc'); do
    cp -L "$lib" "$carry/lib/"
  done
done
du -sh "$carry"/*
echo "$(cd "$(dirname "$0")/../.." && pwd)" > "$carry/source_dir"
