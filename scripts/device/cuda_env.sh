# Sourced by the device scripts: finds cuBLAS on the GPU machine, puts it and the carried
# libraries on LD_LIBRARY_PATH, and links the source path the test binaries were built with
# (WICK_SOURCE_DIR, for tests/data) to this checkout when that path is absent there.
carry=${1:-.carry}
cublas=$(find /usr/local/cuda/lib64 /usr/local/cuda*/targets /usr/lib /usr/local/lib -name 'libcublas.so.13' 2>/dev/null | head -1)
[ -z "$cublas" ] && cublas=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))' 2>/dev/null | xargs -I{} find {} -name 'libcublas.so.13' | head -1)
export LD_LIBRARY_PATH="$PWD/$carry/lib:$(dirname "${cublas:-/nonexistent/x}"):${LD_LIBRARY_PATH:-}"
if [ -f "$carry/source_dir" ]; then
  src=$(cat "$carry/source_dir")
  [ -e "$src" ] || { mkdir -p "$(dirname "$src")" && ln -s "$PWD" "$src"; }
fi
