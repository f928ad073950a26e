#!/usr/bin/env python3
"""Load generator for `wick serve` (or any OpenAI-compatible server): N concurrent clients,
each sending streaming /v1/completions requests back to back over raw HTTP/1.1 (asyncio, no
client library in the timing path). Reports output tokens/s, time to first token and
inter-token latency (p50/p99) per concurrency level.

  scripts/serve_load.py --url http://127.0.0.1:8080 --concurrency 1 8 32 128 \
      --prompt-tokens 128 --max-tokens 64 --requests-per-client 2
Every streamed chunk carries one token (wick sends one SSE event per token); ignore_eos keeps
every request at exactly --max-tokens. With --prompt-ids the prompt is a list of exactly
--prompt-tokens token ids (distinct per request, drawn from [--id-low, --id-high)), for models
whose tokenizer makes the text length a poor guide (e.g. the random-weight GGUFs).
"""
import argparse
import asyncio
import json
import random
import statistics
import time
import urllib.request
from urllib.parse import urlparse

STEP_METRICS = ("wick_step_forward_seconds_sum", "wick_step_forward_seconds_count",
                "wick_step_sample_seconds_sum", "wick_step_sequences_total", "wick_step_tokens_total")


def step_metrics(url):
    """wick's engine-step counters from GET /metrics ({} for servers without them)."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=10) as r:
            text = r.read().decode()
    except Exception:
        return {}
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in STEP_METRICS:
            out[name] = float(value)
    return out


def percentile(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))
    return xs[k]


async def read_chunked_lines(reader):
    """Yields the body lines of a chunked HTTP response."""
    buf = b""
    while True:
        size_line = await reader.readline()
        size = int(size_line.strip() or b"0", 16)
        if size == 0:
            await reader.readline()
            break
        buf += await reader.readexactly(size)
        await reader.readexactly(2)
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line


async def one_request(host, port, path, body, headers, stats):
    reader, writer = await asyncio.open_connection(host, port)
    data = json.dumps(body).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n{headers}\r\n").encode()
    t0 = time.perf_counter()
    writer.write(head + data)
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"HTTP error: {status!r} {await reader.read(2000)!r}")
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    times = []
    async for line in read_chunked_lines(reader):
        if not line.startswith(b"data: ") or line == b"data: [DONE]":
            continue
        event = json.loads(line[6:])
        if any(c.get("text") for c in event.get("choices", [])):
            times.append(time.perf_counter())
    writer.close()
    if times:
        stats["ttft"].append(times[0] - t0)
        stats["itl"].extend(b - a for a, b in zip(times, times[1:]))
        stats["tokens"] += len(times)


async def run_level(args, concurrency):
    u = urlparse(args.url)
    headers = f"Authorization: Bearer {args.api_key}\r\n" if args.api_key else ""
    stats = {"ttft": [], "itl": [], "tokens": 0}
    words = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu " * 64).split()

    async def client(i):
        for r in range(args.requests_per_client):
            # distinct prompts: no prefix-cache hits between clients
            if args.prompt_ids:
                rng = random.Random(1000003 * i + r)
                prompt = [rng.randrange(args.id_low, args.id_high) for _ in range(args.prompt_tokens)]
            else:
                prompt = f"Client {i} request {r}: " + " ".join(words[: args.prompt_tokens - 8])
            body = {"prompt": prompt, "max_tokens": args.max_tokens, "stream": True,
                    "temperature": 0, "ignore_eos": True}
            await one_request(u.hostname, u.port, "/v1/completions", body, headers, stats)

    before = step_metrics(args.url)
    t0 = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    wall = time.perf_counter() - t0
    after = step_metrics(args.url)
    steps = {}
    if before and after:
        d = {k: after[k] - before.get(k, 0.0) for k in after}
        n = d.get("wick_step_forward_seconds_count", 0)
        if n > 0:
            steps = {"steps": int(n),
                     "step_seqs_mean": d["wick_step_sequences_total"] / n,
                     "step_tokens_mean": d["wick_step_tokens_total"] / n,
                     "step_forward_ms": 1e3 * d["wick_step_forward_seconds_sum"] / n,
                     "step_sample_ms": 1e3 * d["wick_step_sample_seconds_sum"] / n}
    return {**steps,
        "concurrency": concurrency,
        "requests": concurrency * args.requests_per_client,
        "output_tok_s": stats["tokens"] / wall,
        "ttft_p50_ms": 1e3 * percentile(stats["ttft"], 50),
        "ttft_p99_ms": 1e3 * percentile(stats["ttft"], 99),
        "itl_p50_ms": 1e3 * percentile(stats["itl"], 50),
        "itl_p99_ms": 1e3 * percentile(stats["itl"], 99),
        "itl_mean_ms": 1e3 * statistics.mean(stats["itl"]) if stats["itl"] else float("nan"),
        "wall_s": wall,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--api-key", default="")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 128])
    ap.add_argument("--prompt-tokens", type=int, default=128, help="approximate prompt length")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--requests-per-client", type=int, default=1)
    ap.add_argument("--prompt-ids", action="store_true",
                    help="send prompts as exactly --prompt-tokens token ids")
    ap.add_argument("--id-low", type=int, default=256)
    ap.add_argument("--id-high", type=int, default=32000)
    ap.add_argument("--json", action="store_true", help="one JSON object per level")
    args = ap.parse_args()
    print("conc  reqs  out tok/s  TTFT p50/p99 ms   ITL p50/p99 ms   wall s")
    for c in args.concurrency:
        r = asyncio.run(run_level(args, c))
        if args.json:
            print(json.dumps(r))
        else:
            print(f"{r['concurrency']:4d}  {r['requests']:4d}  {r['output_tok_s']:9.1f}  "
                  f"{r['ttft_p50_ms']:7.0f}/{r['ttft_p99_ms']:<7.0f}  "
                  f"{r['itl_p50_ms']:6.1f}/{r['itl_p99_ms']:<7.1f}  {r['wall_s']:6.1f}", flush=True)
            if "steps" in r:
                print(f"      engine: {r['steps']} steps, {r['step_seqs_mean']:.1f} sequences and "
                      f"{r['step_tokens_mean']:.1f} tokens per step, forward "
                      f"{r['step_forward_ms']:.2f} ms + host {r['step_sample_ms']:.2f} ms per step",
                      flush=True)


if __name__ == "__main__":
    main()
