#!/usr/bin/env python3
"""Writes a random-weight Llama GGUF (F16 matrices, F32 norms) for speed tests.

Shapes (issue 6): `8b` = Llama-3-8B (hidden 4096, 32 layers, 32 heads, 8 KV heads, FFN 14336,
vocab 128256, separate LM head); `1b` = Llama-3.2-1B (hidden 2048, 16 layers, 32 heads, 8 KV
heads, FFN 8192, vocab 128256, tied embeddings); `tiny` checks the writer in seconds. The values are N(0, 0.02) noise: fine for
timing, meaningless as a model. Quantize with `wick quantize OUT.gguf OUT-q4_0.gguf --type q4_0`.

Needs only numpy: the GGUF v3 container is written here (the `gguf` package is not required).
To keep generation fast, every tensor is a window into one shared block of random f16 values
at a tensor-specific offset.

A synthetic byte-level BPE tokenizer (`tokenizer.ggml.model = gpt2`, no merges) is embedded so
that `wick serve` can load the file: ids 0-255 are the 256 bytes (GPT-2's byte-to-unicode
alphabet), the rest are the normal tokens `<rN>`, the last one is EOS (a control token). Text
encodes one token per byte; any id decodes to non-empty text.

usage: make_random_llama_gguf.py {8b,1b} OUT.gguf [--seed N]
"""

import argparse
import struct

import numpy as np

SHAPES = {
    "8b": dict(hidden=4096, layers=32, heads=32, kv_heads=8, ffn=14336, vocab=128256, tied=False),
    "1b": dict(hidden=2048, layers=16, heads=32, kv_heads=8, ffn=8192, vocab=128256, tied=True),
    "tiny": dict(hidden=256, layers=2, heads=8, kv_heads=2, ffn=512, vocab=1024, tied=False),
}

GGUF_F32, GGUF_F16 = 0, 1
KV_I32, KV_U32, KV_F32, KV_STRING, KV_ARRAY = 5, 4, 6, 8, 9
ALIGN = 32


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value):
    out = gguf_string(key) + struct.pack("<I", vtype)
    if vtype == KV_U32:
        return out + struct.pack("<I", value)
    if vtype == KV_F32:
        return out + struct.pack("<f", value)
    return out + gguf_string(value)


def kv_array(key, etype, values):
    out = gguf_string(key) + struct.pack("<IIQ", KV_ARRAY, etype, len(values))
    if etype == KV_STRING:
        return out + b"".join(gguf_string(v) for v in values)
    return out + np.asarray(values, dtype=np.int32).tobytes()


def byte_alphabet():
    """GPT-2's byte -> printable unicode character map, in byte order."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return [out[b] for b in range(256)]


def tokenizer_meta(vocab):
    tokens = byte_alphabet() + [f"<r{i}>" for i in range(256, vocab)]
    types = [1] * (vocab - 1) + [3]
    return [
        kv("tokenizer.ggml.model", KV_STRING, "gpt2"),
        kv("tokenizer.ggml.pre", KV_STRING, "default"),
        kv_array("tokenizer.ggml.tokens", KV_STRING, tokens),
        kv_array("tokenizer.ggml.token_type", KV_I32, types),
        kv("tokenizer.ggml.eos_token_id", KV_U32, vocab - 1),
    ]


def tensor_list(s):
    """(name, rows, cols, gguf type) in PyTorch order (rows = out features)."""
    h, f, hd = s["hidden"], s["ffn"], s["hidden"] // s["heads"]
    kvd = s["kv_heads"] * hd
    t = [("token_embd.weight", s["vocab"], h, GGUF_F16)]
    for i in range(s["layers"]):
        p = f"blk.{i}."
        t += [
            (p + "attn_norm.weight", 1, h, GGUF_F32),
            (p + "attn_q.weight", h, h, GGUF_F16),
            (p + "attn_k.weight", kvd, h, GGUF_F16),
            (p + "attn_v.weight", kvd, h, GGUF_F16),
            (p + "attn_output.weight", h, h, GGUF_F16),
            (p + "ffn_norm.weight", 1, h, GGUF_F32),
            (p + "ffn_gate.weight", f, h, GGUF_F16),
            (p + "ffn_up.weight", f, h, GGUF_F16),
            (p + "ffn_down.weight", h, f, GGUF_F16),
        ]
    t.append(("output_norm.weight", 1, h, GGUF_F32))
    if not s["tied"]:
        t.append(("output.weight", s["vocab"], h, GGUF_F16))
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shape", choices=sorted(SHAPES))
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    s = SHAPES[a.shape]
    rng = np.random.default_rng(a.seed)
    pool = (rng.standard_normal(1 << 25, dtype=np.float32) * 0.02).astype(np.float16)
    hd = s["hidden"] // s["heads"]
    meta = [
        kv("general.architecture", KV_STRING, "llama"),
        kv("general.name", KV_STRING, f"random-llama-{a.shape}"),
        kv("general.file_type", KV_U32, 1),
        kv("llama.context_length", KV_U32, 8192),
        kv("llama.embedding_length", KV_U32, s["hidden"]),
        kv("llama.block_count", KV_U32, s["layers"]),
        kv("llama.feed_forward_length", KV_U32, s["ffn"]),
        kv("llama.attention.head_count", KV_U32, s["heads"]),
        kv("llama.attention.head_count_kv", KV_U32, s["kv_heads"]),
        kv("llama.rope.dimension_count", KV_U32, hd),
        kv("llama.rope.freq_base", KV_F32, 500000.0),
        kv("llama.attention.layer_norm_rms_epsilon", KV_F32, 1e-5),
        kv("llama.vocab_size", KV_U32, s["vocab"]),
    ] + tokenizer_meta(s["vocab"])
    tensors = tensor_list(s)
    infos, offset = [], 0
    for name, rows, cols, ty in tensors:
        dims = [cols] if rows == 1 else [cols, rows]  # GGUF lists the innermost dim first
        infos.append(gguf_string(name) + struct.pack("<I", len(dims)))
        infos[-1] += b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", ty, offset)
        nbytes = rows * cols * (2 if ty == GGUF_F16 else 4)
        offset += (nbytes + ALIGN - 1) // ALIGN * ALIGN
    with open(a.out, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)))
        for m in meta:
            f.write(m)
        for i in infos:
            f.write(i)
        f.write(b"\0" * (-f.tell() % ALIGN))
        for k, (name, rows, cols, ty) in enumerate(tensors):
            n = rows * cols
            if ty == GGUF_F32:
                data = np.ones(n, dtype=np.float32)
            else:
                start = (k * 7919 * 64) % pool.size
                reps = -(-(start + n) // pool.size)
                data = np.tile(pool, reps)[start : start + n] if reps > 1 else pool[start : start + n]
            f.write(data.tobytes())
            f.write(b"\0" * (-data.nbytes % ALIGN))
    print(f"{a.out}: {len(tensors)} tensors, {offset / 2**30:.2f} GiB of data")


if __name__ == "__main__":
    main()
