#!/usr/bin/env python3
"""Generate wick's tiny random-weight golden models and their expected outputs.

For every architecture in MODELS this script builds a tiny float32 model from a
transformers config class with a fixed seed, re-initialises every parameter
with a deterministic generator (so activations and logits are not degenerate),
saves it with save_pretrained (config.json + model.safetensors) under
tests/data/models/<name>/ and writes expected.json with reference outputs
computed by transformers itself (eager attention, float32, CPU).

Usage (from the repository root):
    pip install -r scripts/requirements-golden.txt
    python scripts/make_model_golden.py            # all models
    python scripts/make_model_golden.py llama gpt2 # a subset

See tests/data/models/README.md for the layout of the outputs.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
import transformers
from safetensors import safe_open

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "tests" / "data" / "models"
SEED = 1234
N_GEN = 24
EMB_STD = 0.1      # token (and GPT-2 position) embeddings
LM_HEAD_STD = 0.5  # untied lm_head

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
torch.use_deterministic_algorithms(True)


# ---------------------------------------------------------------------------
# Model definitions
# ---------------------------------------------------------------------------

def llama_cfg():
    return transformers.LlamaConfig(
        vocab_size=256, hidden_size=64, intermediate_size=128,
        num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=256, rms_norm_eps=1e-5,
        rope_theta=500000.0,
        rope_scaling={
            "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 64,
        },
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
    )


def llama_tied_cfg():
    return transformers.LlamaConfig(
        vocab_size=256, hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
        max_position_embeddings=256, rms_norm_eps=1e-6, rope_theta=10000.0,
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2,
    )


def smollm2_cfg():
    # SmolLM2-135M shape family: llama arch, GQA 3:1, tied embeddings,
    # rope_theta 100000, rms_norm_eps 1e-5.
    return transformers.LlamaConfig(
        vocab_size=256, hidden_size=48, intermediate_size=128,
        num_hidden_layers=3, num_attention_heads=6, num_key_value_heads=2,
        max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=100000.0,
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2,
    )


def mistral_cfg():
    return transformers.MistralConfig(
        vocab_size=256, hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=1000000.0,
        sliding_window=16, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2,
    )


def qwen2_cfg():
    return transformers.Qwen2Config(
        vocab_size=256, hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=256, rms_norm_eps=1e-6, rope_theta=1000000.0,
        use_sliding_window=False, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2,
    )


def qwen3_cfg():
    return transformers.Qwen3Config(
        vocab_size=256, hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        head_dim=32, max_position_embeddings=256, rms_norm_eps=1e-6,
        rope_theta=1000000.0, use_sliding_window=False,
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2,
    )


def qwen3_moe_cfg():
    return transformers.Qwen3MoeConfig(
        vocab_size=256, hidden_size=64, intermediate_size=128,
        moe_intermediate_size=32, num_experts=8, num_experts_per_tok=2,
        norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[],
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        head_dim=16, max_position_embeddings=256, rms_norm_eps=1e-6,
        rope_theta=1000000.0, use_sliding_window=False,
        output_router_logits=False, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2,
    )


def gemma3_cfg():
    return transformers.Gemma3TextConfig(
        vocab_size=256, hidden_size=64, intermediate_size=96,
        num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
        head_dim=24, query_pre_attn_scalar=32,
        max_position_embeddings=256, rms_norm_eps=1e-6,
        rope_theta=1000000.0, rope_local_base_freq=10000.0,
        sliding_window=8, sliding_window_pattern=3,
        layer_types=["sliding_attention", "sliding_attention",
                     "full_attention", "sliding_attention"],
        # transformers' Gemma3 ignores attn_logit_softcapping (real Gemma 3
        # configs have null); keep it null so config and outputs agree.
        final_logit_softcapping=5.0, attn_logit_softcapping=None,
        hidden_activation="gelu_pytorch_tanh",
        tie_word_embeddings=True, pad_token_id=0, bos_token_id=2,
        eos_token_id=1,
    )


def phi3_cfg():
    return transformers.Phi3Config(
        vocab_size=256, hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        partial_rotary_factor=0.75, max_position_embeddings=256,
        original_max_position_embeddings=256, rms_norm_eps=1e-5,
        rope_theta=10000.0, sliding_window=None, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2, pad_token_id=0,
    )


def gpt2_cfg():
    return transformers.GPT2Config(
        vocab_size=256, n_positions=128, n_embd=64, n_layer=2, n_head=4,
        n_inner=None, activation_function="gelu_new",
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        layer_norm_epsilon=1e-5, bos_token_id=1, eos_token_id=2,
    )


# name -> (config factory, model class, weight-init std, features)
MODELS = {
    "llama": (llama_cfg, transformers.LlamaForCausalLM, 0.2,
              "Llama 3 style: GQA 4q/2kv, rope_theta 500000, llama3 rope scaling "
              "(factor 8, low 1, high 4, original_max_position_embeddings 64: with "
              "head_dim 16 all three frequency bands -- kept, smoothed, divided -- occur), "
              "untied lm_head, rms_norm_eps 1e-5."),
    "llama_tied": (llama_tied_cfg, transformers.LlamaForCausalLM, 0.2,
                   "Llama 2 style: MHA (4q/4kv), rope_theta 10000, no rope scaling, "
                   "tie_word_embeddings (no lm_head.weight in the file)."),
    "smollm2": (smollm2_cfg, transformers.LlamaForCausalLM, 0.2,
                "SmolLM2-like: llama arch, hidden 48, 6 heads of head_dim 8, 2 kv heads "
                "(GQA 3:1), tied embeddings, rope_theta 100000."),
    "mistral": (mistral_cfg, transformers.MistralForCausalLM, 0.2,
                "Mistral: llama-like with sliding_window 16 on all layers (the 40-token "
                "prompt and generation exceed it), rope_theta 1e6, untied."),
    "qwen2": (qwen2_cfg, transformers.Qwen2ForCausalLM, 0.2,
              "Qwen2: q/k/v projections with bias (o_proj without), GQA, rope_theta 1e6, untied."),
    "qwen3": (qwen3_cfg, transformers.Qwen3ForCausalLM, 0.2,
              "Qwen3: per-head RMSNorm on q and k (q_norm/k_norm, applied before RoPE), "
              "head_dim 32 != hidden/heads (16), no qkv bias, tied embeddings."),
    "qwen3_moe": (qwen3_moe_cfg, transformers.Qwen3MoeForCausalLM, 0.2,
                  "Qwen3-MoE: every layer sparse, 8 experts, top-2 routing "
                  "(softmax over all experts, take top-k, renormalise since norm_topk_prob), "
                  "q/k norm, untied."),
    "gemma3": (gemma3_cfg, transformers.Gemma3ForCausalLM, 0.2,
               "Gemma 3 text: layers [sliding, sliding, full, sliding] (sliding_window 8), "
               "rope_theta 1e6 for full layers and rope_local_base_freq 1e4 for sliding ones, "
               "q/k norm, embeddings scaled by sqrt(hidden), RMSNorm with (1 + w), "
               "pre- and post- attention/feedforward norms, gelu-tanh gated MLP, "
               "head_dim 24 != hidden/heads, query_pre_attn_scalar 32 (scale 32^-0.5, not head_dim^-0.5), "
               "final_logit_softcapping 5 (attn_logit_softcapping null), tied embeddings."),
    "phi3": (phi3_cfg, transformers.Phi3ForCausalLM, 0.2,
             "Phi-3: fused qkv_proj ([q; k; v] rows) and gate_up_proj ([gate; up] rows), "
             "GQA, partial_rotary_factor 0.75 (12 of 16 head dims rotated), untied."),
    "gpt2": (gpt2_cfg, transformers.GPT2LMHeadModel, 0.2,
             "GPT-2: LayerNorm with bias, learned absolute positions (wpe), Conv1D weights "
             "stored [in, out] (transposed vs nn.Linear), fused c_attn, gelu_new, biases "
             "everywhere, tied lm_head."),
}

# Variant folders: same weights and expected outputs, config.json rewritten in
# the other config schema.
VARIANTS = {
    "llama_legacy_config": "llama",
    "gemma3_legacy_config": "gemma3",
}


# ---------------------------------------------------------------------------
# Weight initialisation
# ---------------------------------------------------------------------------

def init_weights(model: torch.nn.Module, name: str, std: float) -> None:
    """Deterministically re-initialise every parameter.

    * matrices / expert tensors: N(0, std); embeddings N(0, EMB_STD); untied
      lm_head N(0, LM_HEAD_STD)
    * norm weights: 1 + N(0, 0.1). Gemma stores w and scales by (1 + w), so its
      effective norm scale is ~2 (this keeps its tied-embedding residual
      stream from just echoing the input token).
    * biases (Linear, Conv1D, LayerNorm): N(0, 0.05)
    """
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for pname, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            lname = pname.lower()
            if p.dim() >= 2:
                # An untied lm_head gets a larger std so the logits are spread
                # out and greedy decoding has clear winners; embeddings are kept
                # small so that tied models do not just echo their input token.
                if "lm_head" in lname:
                    s = LM_HEAD_STD
                elif any(k in lname for k in ("embed_tokens", "wte", "wpe")):
                    s = EMB_STD
                else:
                    s = std
                p.copy_(torch.randn(p.shape, generator=g) * s)
            elif "norm" in lname or ".ln_" in lname or lname.startswith("transformer.ln_f"):
                if lname.endswith("bias"):
                    p.copy_(torch.randn(p.shape, generator=g) * 0.05)
                else:
                    p.copy_(1.0 + torch.randn(p.shape, generator=g) * 0.1)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    if getattr(model.config, "tie_word_embeddings", False):
        model.tie_weights()


# ---------------------------------------------------------------------------
# Prompts and reference computation
# ---------------------------------------------------------------------------

PROMPT_SPECS = [("one_token", 1), ("short", 5), ("medium", 13), ("long40", 40)]
MIN_MARGIN = 2e-3


def prompt_ids(vocab: int, n: int, attempt: int) -> list[int]:
    # ids 0..3 are avoided (pad/bos/eos-like) to keep prompts "ordinary"
    rng = np.random.default_rng([SEED, n, attempt])
    return [int(x) for x in rng.integers(4, vocab, size=n)]


ALL_POS_PROMPT = "long40"


def fmt_floats(xs) -> list[str]:
    # shortest repr that round-trips as float32
    return [np.format_float_positional(np.float32(x), unique=True, trim="-")
            if abs(float(x)) >= 1e-4 or float(x) == 0.0
            else np.format_float_scientific(np.float32(x), unique=True, trim="-")
            for x in xs]


class RawJSON:
    def __init__(self, s):
        self.s = s


def dump_json(obj, indent=0) -> str:
    """Small JSON writer: float lists are emitted on one line, compactly."""
    pad = "  " * indent
    if isinstance(obj, RawJSON):
        return obj.s
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad}  {json.dumps(k)}: {dump_json(v, indent + 1)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if all(isinstance(v, (int, float, str, bool, type(None), RawJSON)) for v in obj):
            return "[" + ", ".join(dump_json(v) for v in obj) + "]"
        items = [pad + "  " + dump_json(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj)


def float_list(t: torch.Tensor) -> RawJSON:
    return RawJSON("[" + ", ".join(fmt_floats(t.reshape(-1).tolist())) + "]")


@torch.no_grad()
def forward_logits(model, ids):
    x = torch.tensor([ids], dtype=torch.long)
    out = model(input_ids=x, attention_mask=torch.ones_like(x), use_cache=False)
    return out.logits[0].float()


@torch.no_grad()
def greedy_cached(model, ids, n):
    x = torch.tensor([ids], dtype=torch.long)
    out = model.generate(
        input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=n,
        min_new_tokens=n, do_sample=False, num_beams=1, use_cache=True,
        eos_token_id=None, pad_token_id=0, temperature=None, top_p=None, top_k=None,
        output_scores=True, return_dict_in_generate=True,
    )
    toks = out.sequences[0, len(ids):].tolist()
    assert len(toks) == n, (len(toks), n)
    # scores are the processed logits of each step (greedy: unmodified)
    margins = []
    for s in out.scores:
        top2 = torch.topk(s[0].float(), 2).values
        margins.append(float(top2[0] - top2[1]))
    return toks, margins


@torch.no_grad()
def greedy_uncached(model, ids, n):
    seq = list(ids)
    for _ in range(n):
        seq.append(int(forward_logits(model, seq)[-1].argmax()))
    return seq[len(ids):]


def build(name: str):
    cfg_fn, cls, std, features = MODELS[name]
    torch.manual_seed(SEED)
    cfg = cfg_fn()
    cfg._attn_implementation = "eager"
    model = cls(cfg).float().eval()
    init_weights(model, name, std)
    return model, features


def save_model(model, name: str) -> Path:
    d = OUT_DIR / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    model.save_pretrained(d, safe_serialization=True)
    # generation_config.json is not needed by wick; keep the folder minimal
    gc = d / "generation_config.json"
    if gc.exists():
        gc.unlink()
    return d


def compute_expected(model, name: str, features: str) -> dict:
    vocab = model.config.vocab_size
    res = {
        "model": name,
        "generator": f"scripts/make_model_golden.py (transformers {transformers.__version__}, "
                     f"torch {torch.__version__}, float32, eager attention, CPU)",
        "features": features,
        "vocab_size": vocab,
        "n_generate": N_GEN,
        "prompts": [],
    }
    for pname, plen in PROMPT_SPECS:
        # Prompts are random; re-draw one whose greedy continuation is
        # degenerate or has a near-tie (top-1 vs top-2 logit closer than
        # MIN_MARGIN), so the reference is robust to float reordering.
        for attempt in range(50):
            ids = prompt_ids(vocab, plen, attempt)
            logits = forward_logits(model, ids)
            toks, margins = greedy_cached(model, ids, N_GEN)
            last_margin = float(torch.topk(logits[-1], 2).values.diff().abs())
            if len(set(toks)) >= 6 and min(margins) >= MIN_MARGIN and last_margin >= MIN_MARGIN:
                break
        else:
            raise RuntimeError(f"{name}/{pname}: no usable prompt found")
        toks_nc = greedy_uncached(model, ids, N_GEN)
        if toks != toks_nc:
            raise RuntimeError(f"{name}/{pname}: cached and uncached greedy differ:\n{toks}\n{toks_nc}")
        p = {"name": pname}
        entry = {
            "name": p["name"],
            "ids": ids,
            "last_logits": float_list(logits[-1]),
            "last_argmax": int(logits[-1].argmax()),
            "greedy": toks,
            "greedy_min_top2_margin": round(min(margins), 6),
        }
        if p["name"] == ALL_POS_PROMPT:
            entry["all_logits_shape"] = [len(ids), vocab]
            entry["all_logits"] = float_list(logits)
        res["prompts"].append(entry)
        print(f"  {p['name']:>9}: n={len(ids):2d} argmax={entry['last_argmax']:3d} "
              f"greedy={toks} min_margin={min(margins):.4f} "
              f"logit std={float(logits[-1].std()):.3f}")
    return res


# ---------------------------------------------------------------------------
# Legacy (transformers 4.x) config rewriting
# ---------------------------------------------------------------------------

def legacy_config(cfg: dict) -> dict:
    """Rewrite a transformers-5.x config.json into the 4.x schema.

    5.x: rope parameters live in `rope_parameters` (for Gemma 3 a dict keyed by
    layer type), Gemma 3 has an explicit `layer_types` list.
    4.x: `rope_theta` + `rope_scaling` (null when rope_type is "default"),
    Gemma 3 uses `rope_local_base_freq` for sliding layers and
    `sliding_window_pattern` (layer i is sliding iff (i + 1) % pattern != 0).
    """
    c = copy.deepcopy(cfg)
    rp = c.pop("rope_parameters", None)
    if c.get("model_type") == "gemma3_text":
        full = rp["full_attention"]
        local = rp["sliding_attention"]
        c["rope_theta"] = full["rope_theta"]
        c["rope_local_base_freq"] = local["rope_theta"]
        rs = {k: v for k, v in full.items() if k != "rope_theta"}
        c["rope_scaling"] = None if rs.get("rope_type", "default") == "default" else rs
        lt = c.pop("layer_types")
        pat = c.pop("_sliding_window_pattern", None) or c.get("sliding_window_pattern")
        c["sliding_window_pattern"] = pat
        derived = ["sliding_attention" if (i + 1) % pat else "full_attention" for i in range(len(lt))]
        assert derived == lt, (derived, lt)
        c.pop("use_bidirectional_attention", None)
    else:
        c["rope_theta"] = rp["rope_theta"]
        rs = {k: v for k, v in rp.items() if k != "rope_theta"}
        c["rope_scaling"] = None if rs.get("rope_type", "default") == "default" else rs
        if c["rope_scaling"] is not None and "rope_type" in c["rope_scaling"]:
            pass
    c["transformers_version"] = "4.57.1"
    if "dtype" in c:
        c["torch_dtype"] = c.pop("dtype")
    return dict(sorted(c.items()))


def write_variant(variant: str, base: str):
    src = OUT_DIR / base
    dst = OUT_DIR / variant
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    cfg = json.loads((src / "config.json").read_text())
    (dst / "config.json").write_text(json.dumps(legacy_config(cfg), indent=2) + "\n")
    shutil.copy(src / "model.safetensors", dst / "model.safetensors")
    exp = json.loads((src / "expected.json").read_text())
    # Check: the 4.x-style config, loaded by this transformers, gives the same model.
    model = transformers.AutoModelForCausalLM.from_pretrained(
        dst, dtype=torch.float32, attn_implementation="eager").eval()
    for p in exp["prompts"]:
        got = forward_logits(model, p["ids"])[-1]
        want = torch.tensor(p["last_logits"])
        err = float((got - want).abs().max())
        if err > 1e-4:
            raise RuntimeError(f"{variant}: legacy config reproduces logits badly ({err})")
    shutil.copy(src / "expected.json", dst / "expected.json")
    print(f"  {variant}: legacy config verified against {base}")


# ---------------------------------------------------------------------------

def verify_reload(d: Path, exp: dict):
    """Reload the saved folder and check it reproduces the expected logits."""
    model = transformers.AutoModelForCausalLM.from_pretrained(
        d, dtype=torch.float32, attn_implementation="eager").eval()
    for p in exp["prompts"]:
        got = forward_logits(model, p["ids"])[-1]
        want = torch.tensor([float(x) for x in p["last_logits"].s[1:-1].split(",")])
        err = float((got - want).abs().max())
        if err > 1e-5:
            raise RuntimeError(f"{d.name}: reloaded model differs ({err})")


def main(argv):
    names = argv or list(MODELS) + list(VARIANTS)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name in VARIANTS:
            continue
        print(f"== {name}")
        model, features = build(name)
        d = save_model(model, name)
        exp = compute_expected(model, name, features)
        verify_reload(d, exp)
        (d / "expected.json").write_text(dump_json(exp) + "\n")
        with safe_open(d / "model.safetensors", "pt") as f:
            keys = list(f.keys())
        print(f"  saved {len(keys)} tensors, "
              f"{(d / 'model.safetensors').stat().st_size} + {(d / 'expected.json').stat().st_size} bytes")
    for variant, base in VARIANTS.items():
        if variant in names or base in names:
            write_variant(variant, base)


if __name__ == "__main__":
    main(sys.argv[1:])
