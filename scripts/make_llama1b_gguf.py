#!/usr/bin/env python3
"""Writes a random-weight GGUF shaped like Llama-3.2-1B, for CPU speed figures (issue 5).

hidden 2048, 16 layers, 32 heads, 8 KV heads, FFN 8192, vocab 128256, tied embeddings; weights
N(0, 0.02) (norm weights 1), stored F16 (or F32 with --f32); llama metadata and a minimal
byte-level 'gpt2' vocabulary (256 byte tokens, fillers, <|begin_of_text|>/<|end_of_text|>) so
wick loads it as a model with a tokenizer. Quantize it with `wick quantize OUT Q.gguf --type T`.

Tensors are generated and written one at a time (the F16 file is ~2.5 GB).
Usage: python3 scripts/make_llama1b_gguf.py models/llama1b-f16.gguf [--seed 0] [--layers 16]
"""
import argparse

import numpy as np
import gguf

HIDDEN, FFN, HEADS, KV_HEADS, VOCAB = 2048, 8192, 32, 8, 128256
HEAD_DIM = HIDDEN // HEADS
BOS, EOS = 128000, 128001


def byte_tokens():
    """GPT-2's printable stand-ins for the 256 bytes (the byte-level alphabet)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def tensor_shapes(n_layers):
    """(name, numpy shape (rows, cols) as ggml stores it reversed, is_norm)."""
    out = [("token_embd.weight", (VOCAB, HIDDEN), False)]
    for i in range(n_layers):
        p = f"blk.{i}."
        out += [
            (p + "attn_norm.weight", (HIDDEN,), True),
            (p + "attn_q.weight", (HEADS * HEAD_DIM, HIDDEN), False),
            (p + "attn_k.weight", (KV_HEADS * HEAD_DIM, HIDDEN), False),
            (p + "attn_v.weight", (KV_HEADS * HEAD_DIM, HIDDEN), False),
            (p + "attn_output.weight", (HIDDEN, HEADS * HEAD_DIM), False),
            (p + "ffn_norm.weight", (HIDDEN,), True),
            (p + "ffn_gate.weight", (FFN, HIDDEN), False),
            (p + "ffn_up.weight", (FFN, HIDDEN), False),
            (p + "ffn_down.weight", (HIDDEN, FFN), False),
        ]
    out.append(("output_norm.weight", (HIDDEN,), True))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--f32", action="store_true", help="store F32 instead of F16")
    args = ap.parse_args()
    dtype = np.float32 if args.f32 else np.float16

    w = gguf.GGUFWriter(args.out, "llama")
    w.add_name("llama-3.2-1b-shaped-random")
    w.add_context_length(131072)
    w.add_embedding_length(HIDDEN)
    w.add_block_count(args.layers)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_dimension_count(HEAD_DIM)
    w.add_rope_freq_base(500000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(VOCAB)
    w.add_file_type(0 if args.f32 else 1)  # ALL_F32 / MOSTLY_F16

    tokens = byte_tokens() + [f"tok{i}" for i in range(256, BOS)]
    tokens += ["<|begin_of_text|>", "<|end_of_text|>"]
    tokens += [f"<|reserved_special_token_{i}|>" for i in range(VOCAB - len(tokens))]
    types = [1] * BOS + [3] * (VOCAB - BOS)  # normal / control
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("llama-bpe")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges([])
    w.add_bos_token_id(BOS)
    w.add_eos_token_id(EOS)
    w.add_add_bos_token(True)

    specs = tensor_shapes(args.layers)
    for name, shape, is_norm in specs:
        dt = np.float32 if is_norm else dtype
        nbytes = int(np.prod(shape)) * np.dtype(dt).itemsize
        w.add_tensor_info(name, shape, np.dtype(dt), nbytes)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    rng = np.random.default_rng(args.seed)
    for name, shape, is_norm in specs:
        if is_norm:
            t = np.ones(shape, dtype=np.float32)
        else:
            t = (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(dtype)
        w.write_tensor_data(t)
    w.close()
    print(f"wrote {args.out}: {len(specs)} tensors, {args.layers} layers")


if __name__ == "__main__":
    main()
