#!/usr/bin/env python3
"""Makes the tiny model-file fixtures in tests/data/formats/ and checks wick's own GGUF output.

1. tiny_llama.gguf: written by llama.cpp's `gguf` package (GGUFWriter): metadata of every value
   type incl. nested arrays, f32/f16/bf16/q8_0 tensors. Expected values in tiny_llama.gguf.json.
2. tiny.safetensors: written by the `safetensors` package (numpy API) with __metadata__;
   expected values in tiny.safetensors.json.
3. sharded/: a two-shard checkpoint with an HF-style model.safetensors.index.json;
   expected values in sharded.json.
4. Reads wick_writer.gguf (written by wick's GgufWriter; the C++ test FormatFixtures.
   WickWriterFileIsCurrent regenerates it with WICK_UPDATE_FIXTURES=1) with gguf's GGUFReader
   and checks every value, so wick's writer is verified against the reference reader.

Tensor bytes are recorded as hex so the C++ test compares them exactly. Run from the repo root:
    pip install gguf safetensors numpy && python3 scripts/make_format_fixtures.py
"""
import json
import os
import sys

import numpy as np

import gguf
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "formats")


def make_gguf(path):
    rng = np.random.default_rng(1234)
    w = GGUFWriter(path, arch="llama")
    meta = {}

    def scalar(key, kind, value, adder):
        adder(key, value)
        meta[key] = {"type": kind, "value": value}

    scalar("test.u8", "u8", 250, w.add_uint8)
    scalar("test.i8", "i8", -120, w.add_int8)
    scalar("test.u16", "u16", 65000, w.add_uint16)
    scalar("test.i16", "i16", -32000, w.add_int16)
    scalar("test.u32", "u32", 4000000000, w.add_uint32)
    scalar("test.i32", "i32", -2000000000, w.add_int32)
    scalar("test.u64", "u64", 2**63 + 5, w.add_uint64)
    scalar("test.i64", "i64", -(2**62), w.add_int64)
    scalar("test.f32", "f32", 0.1875, w.add_float32)
    scalar("test.f64", "f64", 1.0e-300, w.add_float64)
    scalar("test.bool", "bool", True, w.add_bool)
    scalar("test.string", "string", "h\u00e9llo \u4e16\u754c", w.add_string)
    scalar("llama.attention.head_count", "u32", 2, w.add_uint32)
    scalar("llama.attention.head_count_kv", "u32", 1, w.add_uint32)
    tokens = ["<unk>", "<s>", "</s>", "\u2581hello", "\u2581w\u00f6rld", ""]
    w.add_token_list(tokens)
    meta["tokenizer.ggml.tokens"] = {"type": "array", "elem_type": "string", "value": tokens}
    scores = [0.0, -1.5, -2.25, -3.0, 4.5, -1e10]
    w.add_token_scores(scores)
    meta["tokenizer.ggml.scores"] = {"type": "array", "elem_type": "f32", "value": scores}
    token_types = [2, 3, 3, 1, 1, 6]
    w.add_token_types(token_types)
    meta["tokenizer.ggml.token_type"] = {"type": "array", "elem_type": "i32", "value": token_types}
    nested = [["a", "b"], ["c"]]  # gguf-py refuses empty arrays
    w.add_array("test.nested", nested)
    meta["test.nested"] = {"type": "array", "elem_type": "array", "value": nested}

    tensors = []

    def tensor(name, array, dtype_name, raw_dtype=None, hf_shape=None):
        if raw_dtype is None:
            w.add_tensor(name, array)
        else:
            w.add_tensor(name, array, raw_dtype=raw_dtype)
        tensors.append({"name": name, "dtype": dtype_name, "shape": list(hf_shape or array.shape),
                        "hex": array.tobytes().hex()})

    tensor("token_embd.weight", rng.standard_normal((6, 8)).astype(np.float32), "f32")
    tensor("blk.0.attn_norm.weight", rng.standard_normal(8).astype(np.float16), "f16")
    q = rng.standard_normal((8, 8)).astype(np.float32)  # 2 heads of dim 4
    tensor("blk.0.attn_q.weight", q, "f32")
    bf16 = (rng.standard_normal((2, 8)).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    tensor("blk.0.attn_k.weight", bf16, "bf16", GGMLQuantizationType.BF16, [2, 8])
    q8 = gguf.quants.quantize(rng.standard_normal((2, 64)).astype(np.float32),
                              GGMLQuantizationType.Q8_0)
    tensor("output.weight", q8, "q8_0", GGMLQuantizationType.Q8_0, [2, 64])

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return {"version": 3, "alignment": 32, "architecture": "llama", "metadata": meta,
            "tensors": tensors}


def make_safetensors(path, tensors, metadata):
    save_file(tensors, path, metadata=metadata)
    names = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.float64): "F64",
             np.dtype(np.int64): "I64", np.dtype(np.int32): "I32", np.dtype(np.int8): "I8",
             np.dtype(np.uint8): "U8", np.dtype(np.bool_): "BOOL", np.dtype(np.int16): "I16"}
    return [{"name": k, "dtype": names[v.dtype], "shape": list(v.shape), "hex": v.tobytes().hex()}
            for k, v in sorted(tensors.items())]


def nested_strings(field):
    """An array of string arrays. ReaderField.contents() flattens nested arrays, so walk the
    parts: key length, key, outer type, element type, count, then per inner array its type,
    count and (length, bytes) per string."""
    assert field.types == [GGUFValueType.ARRAY, GGUFValueType.ARRAY, GGUFValueType.STRING]
    parts, i, out = field.parts, 5, []
    for _ in range(int(parts[4][0])):
        assert int(parts[i][0]) == GGUFValueType.STRING
        count = int(parts[i + 1][0])
        out.append([bytes(parts[i + 3 + 2 * k]).decode() for k in range(count)])
        i += 2 + 2 * count
    return out


def check_wick_writer(path):
    """wick's GgufWriter output (see tests/formats/fixtures_test.cpp) read by gguf-py."""
    if not os.path.exists(path):
        print(f"skip: {path} not found (run the C++ test with WICK_UPDATE_FIXTURES=1)")
        return
    r = GGUFReader(path)
    fields = {name: field for name, field in r.fields.items() if not name.startswith("GGUF.")}

    def value(key):
        return fields[key].contents()

    expected = {"general.architecture": "wick-test", "general.alignment": 64, "w.u8": 7,
                "w.i8": -7, "w.u16": 700, "w.i16": -700, "w.u32": 70000, "w.i32": -70000,
                "w.u64": 2**40, "w.i64": -(2**40), "w.bool": False, "w.string": "caf\u00e9",
                "w.strings": ["x", "", "yz"], "w.i32s": [1, -2, 3]}
    for key, want in expected.items():
        got = value(key)
        assert got == want, f"{key}: gguf-py read {got!r}, wick wrote {want!r}"
    assert abs(value("w.f32") - 0.5) == 0 and value("w.f64") == -0.125
    assert [float(x) for x in value("w.f32s")] == [0.25, -4.0]
    assert fields["w.u8"].types == [GGUFValueType.UINT8]
    assert nested_strings(fields["w.nested"]) == [["p", "q"], [], ["r"]]
    got = {t.name: t for t in r.tensors}
    assert list(got) == ["m", "h", "q"], list(got)
    m = got["m"]
    assert m.tensor_type == GGMLQuantizationType.F32 and list(m.shape) == [3, 2]
    assert np.array_equal(np.asarray(m.data).reshape(-1), np.arange(6, dtype=np.float32))
    h = got["h"]
    assert h.tensor_type == GGMLQuantizationType.F16
    assert np.array_equal(np.asarray(h.data).astype(np.float32), [1.0, -2.0, 0.5, 8.0])
    q = got["q"]
    assert q.tensor_type == GGMLQuantizationType.Q8_0 and list(q.shape) == [32, 2]
    deq = gguf.quants.dequantize(np.asarray(q.data), GGMLQuantizationType.Q8_0)
    assert np.allclose(deq.reshape(-1)[:4], [0.0, 1.0, 2.0, 3.0]), deq.reshape(-1)[:4]
    assert m.data_offset % 64 == 0 and q.data_offset % 64 == 0
    print(f"ok: gguf-py reads {path} as wick wrote it")


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = make_gguf(os.path.join(OUT, "tiny_llama.gguf"))
    # Cross-check with gguf's own reader before recording.
    r = GGUFReader(os.path.join(OUT, "tiny_llama.gguf"))
    assert [t.name for t in r.tensors] == [t["name"] for t in expected["tensors"]]
    with open(os.path.join(OUT, "tiny_llama.gguf.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)

    rng = np.random.default_rng(99)
    tensors = {
        "model.embed_tokens.weight": rng.standard_normal((5, 4)).astype(np.float32),
        "model.norm.weight": rng.standard_normal(4).astype(np.float16),
        "scalar": np.array(3.5, dtype=np.float64),
        "ids": np.array([[1, -2], [3, 2**40]], dtype=np.int64),
        "i32": np.array([7, -8, 9], dtype=np.int32),
        "bytes": np.array([0, 255, 7], dtype=np.uint8),
        "mask": np.array([True, False, True, True]),
        "i8": np.array([-128, 127], dtype=np.int8),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }
    meta = {"format": "pt", "note": "w\u00f6rld"}
    st = make_safetensors(os.path.join(OUT, "tiny.safetensors"), tensors, meta)
    with open(os.path.join(OUT, "tiny.safetensors.json"), "w") as f:
        json.dump({"metadata": meta, "tensors": st}, f, indent=1, ensure_ascii=False)

    shard_dir = os.path.join(OUT, "sharded")
    os.makedirs(shard_dir, exist_ok=True)
    shards = [
        {"model.embed_tokens.weight": rng.standard_normal((3, 2)).astype(np.float32),
         "model.layers.0.self_attn.q_proj.weight": rng.standard_normal((2, 2)).astype(np.float16)},
        {"model.norm.weight": rng.standard_normal(2).astype(np.float32),
         "lm_head.weight": rng.standard_normal((3, 2)).astype(np.float32)},
    ]
    weight_map, all_tensors, total = {}, [], 0
    for i, shard in enumerate(shards):
        name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        for record in make_safetensors(os.path.join(shard_dir, name), shard, {"format": "pt"}):
            record["shard"] = name
            all_tensors.append(record)
        for k, v in shard.items():
            weight_map[k] = name
            total += v.nbytes
    with open(os.path.join(shard_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    with open(os.path.join(OUT, "sharded.json"), "w") as f:
        json.dump({"tensors": all_tensors}, f, indent=1)

    check_wick_writer(os.path.join(OUT, "wick_writer.gguf"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
