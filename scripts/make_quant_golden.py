#!/usr/bin/env python3
"""Golden data for wick's GGUF block codecs (src/core/quant/), read by tests/core/quant_*_test.cpp.

Made with the `gguf` PyPI package (version recorded in tests/data/quant/README.md and in each
file's header comment below) and numpy; deterministic (seeded) so a rerun rewrites the same bytes.

Outputs in tests/data/quant/:
  inputs.bin        the f32 test rows (gaussian, outliers, zeros, tiny, large, ...)
  <dtype>.bin       sections for one dtype (see write_sections):
    tag 1 "gguf_quantize":  gguf.quants.quantize(inputs) bytes + gguf.quants.dequantize of them
                            (only the types gguf can quantize)
    tag 2 "random_blocks":  random but valid blocks (finite scales) + their dequantization by gguf
                            (for Q8_1/Q8_K, which gguf cannot decode, numpy per ggml's formula)
    tag 3 "ggml_quantize":  ggml's reference quantizer applied to inputs (only with --ggml-lib;
                            bytes only; every block type, the K/IQ4/Q8_K/Q8_1 ones being those
                            gguf cannot quantize)

Usage:
  python3 scripts/make_quant_golden.py [--ggml-lib /path/to/libggml-base.so] [--out DIR]

File layout (little-endian): magic b"WQG1", u32 section count, then per section
  u32 tag, u32 n_rows, u32 n_per_row, u32 n_bytes, n_bytes of blocks, [n_rows*n_per_row f32].
inputs.bin: magic b"WQI1", u32 n_rows, u32 n_per_row, f32 values.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.metadata
import pathlib
import struct

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

SEED = 20240607
GGUF_VERSION = "0.19.0"  # the gguf release the committed golden data was made with
N_PER_ROW = 256  # a multiple of every block size
TAG_GGUF_QUANTIZE, TAG_RANDOM_BLOCKS, TAG_GGML_QUANTIZE = 1, 2, 3

# wick dtype name -> (gguf type, block size, block bytes in ggml's current layout,
#                     offsets of f16 scale fields, gguf can quantize, ggml reference function)
TYPES = {
    "f16": (T.F16, 1, 2, [], True, None),
    "bf16": (T.BF16, 1, 2, [], True, None),
    "q4_0": (T.Q4_0, 32, 18, [0], True, "quantize_row_q4_0_ref"),
    "q4_1": (T.Q4_1, 32, 20, [0, 2], True, "quantize_row_q4_1_ref"),
    "q5_0": (T.Q5_0, 32, 22, [0], True, "quantize_row_q5_0_ref"),
    "q5_1": (T.Q5_1, 32, 24, [0, 2], True, "quantize_row_q5_1_ref"),
    "q8_0": (T.Q8_0, 32, 34, [0], True, "quantize_row_q8_0_ref"),
    "q8_1": (T.Q8_1, 32, 36, [0, 2], False, "quantize_row_q8_1_ref"),
    "q2_k": (T.Q2_K, 256, 84, [80, 82], False, "quantize_row_q2_K_ref"),
    "q3_k": (T.Q3_K, 256, 110, [108], False, "quantize_row_q3_K_ref"),
    "q4_k": (T.Q4_K, 256, 144, [0, 2], False, "quantize_row_q4_K_ref"),
    "q5_k": (T.Q5_K, 256, 176, [0, 2], False, "quantize_row_q5_K_ref"),
    "q6_k": (T.Q6_K, 256, 210, [208], False, "quantize_row_q6_K_ref"),
    "q8_k": (T.Q8_K, 256, 292, [], False, "quantize_row_q8_K_ref"),
    # ggml's quantize_row_iq4_nl_ref skips the scale search; quantize_iq4_nl (what llama-quantize
    # runs without an imatrix) does it, and that is what wick implements.
    "iq4_nl": (T.IQ4_NL, 32, 18, [0], False, "quantize_iq4_nl"),
    "iq4_xs": (T.IQ4_XS, 256, 136, [0], False, "quantize_row_iq4_xs_ref"),
}


def make_inputs(rng: np.random.Generator) -> np.ndarray:
    rows = []
    for _ in range(4):
        rows.append(rng.standard_normal(N_PER_ROW))
    outliers = rng.standard_normal(N_PER_ROW)
    outliers[rng.choice(N_PER_ROW, 6, replace=False)] *= 25.0
    rows.append(outliers)
    rows.append(np.zeros(N_PER_ROW))
    rows.append(rng.standard_normal(N_PER_ROW) * 1e-6)  # f16 scales go subnormal
    rows.append(rng.standard_normal(N_PER_ROW) * 1e-9)  # f16 scales underflow to zero
    rows.append(rng.standard_normal(N_PER_ROW) * 2e3)  # large, still finite in f16 scales
    rows.append(rng.uniform(-1.0, 1.0, N_PER_ROW))
    rows.append(np.exp(rng.standard_normal(N_PER_ROW)))  # all positive: exercises the mins
    rows.append(np.full(N_PER_ROW, 0.5))
    half = rng.standard_normal(N_PER_ROW)
    half[: N_PER_ROW // 2] = 0.0  # zero groups inside non-zero super-blocks
    rows.append(half)
    return np.stack(rows).astype(np.float32)


def random_scales(rng: np.random.Generator, n: int) -> np.ndarray:
    """Finite f16 scales: log-uniform magnitudes 2^-20..2^4 (some subnormal), random sign, some 0."""
    mags = np.exp2(rng.uniform(-20.0, 4.0, n))
    signs = np.where(rng.random(n) < 0.3, -1.0, 1.0)
    vals = (mags * signs).astype(np.float16)
    vals[rng.random(n) < 0.05] = 0.0
    return vals


def random_blocks(rng: np.random.Generator, name: str, n_values: int) -> np.ndarray:
    _, block_size, block_bytes, f16_offsets, _, _ = TYPES[name]
    if name in ("f16", "bf16"):
        bits = rng.integers(0, 1 << 16, n_values, dtype=np.uint32).astype(np.uint16)
        if name == "f16":
            bits[(bits & 0x7C00) == 0x7C00] &= 0xBFFF  # no inf/NaN: numpy and wick agree anyway,
        else:                                           # but NaN payloads are not worth pinning
            bits[(bits & 0x7F80) == 0x7F80] &= 0xBFFF
        return bits.view(np.uint8).reshape(1, -1)
    n_blocks = n_values // block_size
    raw = rng.integers(0, 256, (n_blocks, block_bytes), dtype=np.uint32).astype(np.uint8)
    for off in f16_offsets:
        raw[:, off : off + 2] = random_scales(rng, n_blocks).view(np.uint8).reshape(n_blocks, 2)
    if name == "q8_k":
        d = (np.exp2(rng.uniform(-12.0, 2.0, n_blocks)) * np.where(rng.random(n_blocks) < 0.3, -1, 1))
        raw[:, 0:4] = d.astype(np.float32).view(np.uint8).reshape(n_blocks, 4)
    return raw.reshape(1, -1)


def dequantize(name: str, raw: np.ndarray, n_values: int) -> np.ndarray:
    qtype, block_size, block_bytes, _, _, _ = TYPES[name]
    if name == "q8_1":  # gguf has no Q8_1 decoder (and sizes it 40 bytes, ggml's old f32 layout)
        blocks = raw.reshape(-1, block_bytes)
        d = blocks[:, 0:2].copy().view(np.float16).astype(np.float32)
        return (blocks[:, 4:].view(np.int8).astype(np.float32) * d).reshape(1, n_values)
    if name == "q8_k":  # gguf has no Q8_K decoder: ggml's dequantize_row_q8_K is d * q
        blocks = raw.reshape(-1, block_bytes)
        d = blocks[:, 0:4].copy().view(np.float32)
        return (d * blocks[:, 4:260].view(np.int8).astype(np.float32)).reshape(1, n_values)
    out = quants.dequantize(raw.reshape(1, -1), qtype)
    return np.asarray(out, dtype=np.float32).reshape(1, n_values)


def gguf_quantize(name: str, inputs: np.ndarray) -> np.ndarray:
    qtype = TYPES[name][0]
    q = quants.quantize(inputs, qtype)
    return np.ascontiguousarray(q).view(np.uint8).reshape(inputs.shape[0], -1)


def ggml_quantize(lib: ctypes.CDLL, name: str, inputs: np.ndarray) -> np.ndarray:
    _, block_size, block_bytes, _, _, fn_name = TYPES[name]
    n_rows, n = inputs.shape
    out = np.zeros((n_rows, n // block_size * block_bytes), dtype=np.uint8)  # Q8_K leaves bsums of
    fp = ctypes.POINTER(ctypes.c_float)                                     # zero blocks unwritten
    for r in range(n_rows):
        src = np.ascontiguousarray(inputs[r])
        dst = out[r]
        if fn_name == "quantize_iq4_nl":
            f = lib.quantize_iq4_nl
            f.argtypes = [fp, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, fp]
            f.restype = ctypes.c_size_t
            f(src.ctypes.data_as(fp), dst.ctypes.data, 1, n, None)
        else:
            f = getattr(lib, fn_name)
            f.argtypes = [fp, ctypes.c_void_p, ctypes.c_int64]
            f.restype = None
            f(src.ctypes.data_as(fp), dst.ctypes.data, n)
    return out


def section(tag: int, raw: np.ndarray, n_rows: int, n_per_row: int, deq: np.ndarray | None) -> bytes:
    raw = np.ascontiguousarray(raw, dtype=np.uint8)
    head = struct.pack("<IIII", tag, n_rows, n_per_row, raw.size)
    body = raw.tobytes()
    if deq is not None:
        body += np.ascontiguousarray(deq, dtype="<f4").tobytes()
    return head + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ggml-lib", help="libggml-base.so to take reference K/IQ4 bytes from")
    here = pathlib.Path(__file__).resolve().parent.parent
    parser.add_argument("--out", default=str(here / "tests" / "data" / "quant"))
    args = parser.parse_args()
    if importlib.metadata.version("gguf") != GGUF_VERSION:
        print(f"warning: gguf {importlib.metadata.version('gguf')} installed, data was made with {GGUF_VERSION}")
    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(SEED)
    inputs = make_inputs(rng)
    n_rows, n = inputs.shape
    (out_dir / "inputs.bin").write_bytes(b"WQI1" + struct.pack("<II", n_rows, n) + inputs.astype("<f4").tobytes())

    lib = ctypes.CDLL(args.ggml_lib) if args.ggml_lib else None
    n_random = 2048
    for name, (_, _, _, _, can_quantize, fn_name) in TYPES.items():
        sections = []
        if can_quantize:
            raw = gguf_quantize(name, inputs)
            deq = np.concatenate([dequantize(name, raw[r : r + 1], n) for r in range(n_rows)])
            sections.append(section(TAG_GGUF_QUANTIZE, raw, n_rows, n, deq))
        raw = random_blocks(rng, name, n_random)
        sections.append(section(TAG_RANDOM_BLOCKS, raw, 1, n_random, dequantize(name, raw, n_random)))
        if lib is not None and fn_name is not None:
            sections.append(section(TAG_GGML_QUANTIZE, ggml_quantize(lib, name, inputs), n_rows, n, None))
        (out_dir / f"{name}.bin").write_bytes(b"WQG1" + struct.pack("<I", len(sections)) + b"".join(sections))
    print(f"gguf {importlib.metadata.version('gguf')}, numpy {np.__version__}: wrote {out_dir}")


if __name__ == "__main__":
    main()
