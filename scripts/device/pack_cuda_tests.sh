#!/usr/bin/env bash
# Packs what scripts/device/cuda_tests.sh needs on the GPU machine into one folder (default
# .carry, listed in .git/info/exclude): the CUDA build's backend test binary (stripped) and the
# shared libraries it links that a bare GPU machine lacks. Run after
#   cmake --preset cuda -B build/cuda -DWICK_BENCH=OFF && ninja -C build/cuda wick_backend_tests
set -euo pipefail
build=${1:-build/cuda}
carry=${2:-.carry}
mkdir -p "$carry/lib"
strip -o "$carry/wick_backend_tests" "$build/tests/backends/wick_backend_tests"
for lib in $(ldd "$carry/wick_backend_tests" | awk '/=>/ {print $3}' | grep -E 'libfmt|libpcre2|libutf8proc'); do
  cp -L "$lib" "$carry/lib/"
done
du -sh "$carry"
