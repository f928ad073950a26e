#!/usr/bin/env python3
"""Speed of Hugging Face `tokenizers` on the inputs bench/tokenizer_bench.cpp times in wick.

For each real tokenizer in ../shared/testdata/tokenizers: load time (Tokenizer.from_str on the
decompressed tokenizer.json, so reading and xz are not timed; GPT-2 is built from its vocab and
merges files as scripts/tokenizer_golden.py builds it), and encode throughput over the golden
corpus (the texts of tests/data/tokenizer/golden_<name>.json): all texts joined by "\\n" as one
document ("doc"), and one encode() call per text ("texts"). add_special_tokens=False, one thread.
Times are CPU seconds of this process (time.process_time), the best of a few repeats, so other
jobs on a shared machine disturb them less; wall-clock figures are printed beside them.

Usage: python3 scripts/tokenizer_speed.py [name ...]   (needs: pip install tokenizers==0.23.3)
"""
import json
import lzma
import os
import sys
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")

from tokenizers import Tokenizer  # noqa: E402  (after the thread settings)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer_golden import OUT, SHARED, gpt2_tokenizer  # noqa: E402

NAMES = ["llama2", "llama3", "qwen3", "gemma3", "deepseek_v3", "gptoss", "gpt2"]


def best_of(fn, repeats):
    """(cpu seconds, wall seconds) of the fastest of `repeats` calls."""
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        best = min(best, (time.process_time() - c0, time.perf_counter() - w0))
    return best


def throughput(fn, nbytes, min_cpu_s=1.0):
    """MB/s (10^6 bytes per CPU second) of fn, which handles nbytes per call."""
    calls, cpu = 0, 0.0
    fn()  # warm up
    c0 = time.process_time()
    while cpu < min_cpu_s:
        fn()
        calls += 1
        cpu = time.process_time() - c0
    return nbytes * calls / cpu / 1e6


def main():
    names = sys.argv[1:] or NAMES
    print(f"tokenizers {__import__('tokenizers').__version__}, load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"{'tokenizer':12} {'load cpu ms':>11} {'load wall ms':>12} {'doc MB/s':>9} "
          f"{'texts MB/s':>10} {'corpus KB':>9}")
    for name in names:
        if name == "gpt2":
            load = gpt2_tokenizer
        else:
            text = lzma.open(os.path.join(SHARED, name, "tokenizer.json.xz")).read().decode()
            load = lambda text=text: Tokenizer.from_str(text)  # noqa: E731
        load_cpu, load_wall = best_of(load, 3)
        tok = load()
        with open(os.path.join(OUT, f"golden_{name}.json"), encoding="utf-8") as f:
            texts = [c["text"] for c in json.load(f)["cases"]]
        doc = "\n".join(texts)
        doc_bytes = len(doc.encode())
        texts_bytes = sum(len(t.encode()) for t in texts)
        doc_rate = throughput(lambda: tok.encode(doc, add_special_tokens=False), doc_bytes)
        texts_rate = throughput(
            lambda: [tok.encode(t, add_special_tokens=False) for t in texts], texts_bytes)
        print(f"{name:12} {load_cpu * 1e3:11.1f} {load_wall * 1e3:12.1f} {doc_rate:9.2f} "
              f"{texts_rate:10.2f} {doc_bytes / 1e3:9.1f}")


if __name__ == "__main__":
    main()
