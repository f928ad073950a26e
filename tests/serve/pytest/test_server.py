# The real `wick serve` driven through the official `openai` client and raw HTTP/WebSocket:
# chat and completions (streaming or not), usage, stop strings, logprobs, embeddings, tokenize,
# /metrics, auth, every error class, disconnects, concurrency and SIGTERM draining.
import json
import math
import re
import socket
import threading
import time

import pytest
import requests

from conftest import API_KEY, TINY, Server

CHAT = [{"role": "user", "content": "Name three colors."}]


def sse_events(resp):
    """The JSON objects of an SSE response, then whether it ended with [DONE]."""
    events, done = [], False
    for line in resp.iter_lines():
        if not line:
            continue
        assert line.startswith(b"data: "), line
        data = line[len(b"data: "):]
        if data == b"[DONE]":
            done = True
            break
        events.append(json.loads(data))
    return events, done


def test_health_and_models(smol, client):
    assert requests.get(smol.url + "/health").json() == {"status": "ok"}
    models = client.models.list()
    assert [m.id for m in models.data] == ["smol"]


def test_chat_stream_equals_non_stream_with_usage(client):
    full = client.chat.completions.create(model="smol", messages=CHAT, max_tokens=10,
                                          temperature=0)
    text = full.choices[0].message.content
    assert text and full.choices[0].message.role == "assistant"
    assert full.usage.completion_tokens <= 10
    assert full.usage.total_tokens == full.usage.prompt_tokens + full.usage.completion_tokens
    stream = client.chat.completions.create(model="smol", messages=CHAT, max_tokens=10,
                                            temperature=0, stream=True,
                                            stream_options={"include_usage": True})
    parts, finish, usage = [], None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for c in chunk.choices:
            parts.append(c.delta.content or "")
            finish = c.finish_reason or finish
    assert "".join(parts) == text
    assert finish == full.choices[0].finish_reason
    assert usage.completion_tokens == full.usage.completion_tokens
    assert usage.prompt_tokens == full.usage.prompt_tokens


def test_completion_usage_counts_tokens(smol, client, auth):
    prompt = "Once upon a time"
    r = client.completions.create(model="smol", prompt=prompt, max_tokens=7, temperature=0)
    ids = requests.post(smol.url + "/tokenize", json={"content": prompt, "add_special": True},
                        headers=auth).json()["tokens"]
    assert r.usage.prompt_tokens == len(ids)
    assert r.usage.completion_tokens == 7 and r.choices[0].finish_reason == "length"
    # token-id prompts give the same continuation
    r2 = client.completions.create(model="smol", prompt=ids, max_tokens=7, temperature=0)
    assert r2.choices[0].text == r.choices[0].text


def test_stop_string_cuts_before_it(client):
    base = client.completions.create(model="smol", prompt="1, 2, 3, 4,", max_tokens=12,
                                     temperature=0).choices[0].text
    words = base.split()
    assert len(words) >= 3, base
    stop = " " + words[2]
    r = client.completions.create(model="smol", prompt="1, 2, 3, 4,", max_tokens=12,
                                  temperature=0, stop=[stop])
    assert r.choices[0].text == base[:base.index(stop)]
    assert r.choices[0].finish_reason == "stop"


def test_logprobs_are_a_distribution(client):
    r = client.chat.completions.create(model="smol", messages=CHAT, max_tokens=5, temperature=0,
                                       logprobs=True, top_logprobs=3)
    content = r.choices[0].logprobs.content
    assert len(content) == r.usage.completion_tokens
    for t in content:
        assert len(t.top_logprobs) == 3
        assert t.logprob <= 0
        assert t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob >= t.top_logprobs[2].logprob
        assert t.logprob == pytest.approx(t.top_logprobs[0].logprob)  # greedy picks the top one
        assert sum(math.exp(a.logprob) for a in t.top_logprobs) <= 1.0 + 1e-4
    assert "".join(t.token for t in content) == r.choices[0].message.content


def test_n_choices_and_seed(client):
    kw = dict(model="smol", messages=CHAT, max_tokens=8, temperature=1.0, seed=42, n=2)
    a = client.chat.completions.create(**kw)
    b = client.chat.completions.create(**kw)
    assert [c.index for c in a.choices] == [0, 1]
    assert [c.message.content for c in a.choices] == [c.message.content for c in b.choices]


def test_embeddings(client):
    r = client.embeddings.create(model="smol", input=["a red apple", "a green apple"])
    assert len(r.data) == 2
    for d in r.data:
        assert len(d.embedding) == 576
        assert sum(x * x for x in d.embedding) == pytest.approx(1.0, abs=1e-3)
    again = client.embeddings.create(model="smol", input="a red apple", encoding_format="float")
    assert again.data[0].embedding == pytest.approx(r.data[0].embedding, abs=1e-5)


def test_tokenize_round_trip(smol, auth):
    text = "Hello, wörld! 你好 🙂"
    ids = requests.post(smol.url + "/tokenize", json={"content": text}, headers=auth).json()
    back = requests.post(smol.url + "/detokenize", json={"tokens": ids["tokens"]}, headers=auth)
    assert back.json()["content"] == text
    pieces = requests.post(smol.url + "/tokenize", json={"content": "Hi there",
                                                         "with_pieces": True}, headers=auth)
    assert "".join(p["piece"] for p in pieces.json()["tokens"]) == "Hi there"


SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? [-+]?([0-9.e+-]+|Inf|NaN)$')


def test_metrics_parse_as_prometheus_text(smol, client):
    client.completions.create(model="smol", prompt="Hi", max_tokens=2)
    text = requests.get(smol.url + "/metrics").text
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE"):
            _, _, name, kind = line.split()
            types[name] = kind
        elif line and not line.startswith("#"):
            assert SAMPLE.match(line), line
    for name in ["wick_requests_total", "wick_prompt_tokens_total", "wick_generation_tokens_total",
                 "wick_time_to_first_token_seconds", "wick_inter_token_latency_seconds",
                 "wick_kv_blocks_used", "wick_queue_depth", "wick_running_sequences"]:
        assert name in types, name
    m = smol.metrics()
    buckets = [v for k, v in m.items() if k.startswith("wick_time_to_first_token_seconds_bucket")]
    assert buckets == sorted(buckets) and buckets[-1] == m["wick_time_to_first_token_seconds_count"]
    assert m["wick_generation_tokens_total"] >= 2


def test_auth(smol):
    body = {"messages": CHAT, "max_tokens": 1}
    for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY}]:
        r = requests.post(smol.url + "/v1/chat/completions", json=body, headers=headers)
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "invalid_api_key"
    assert requests.get(smol.url + "/health").status_code == 200


@pytest.mark.parametrize("body,status,param", [
    ('{"messages": [', 400, None),                                         # malformed JSON
    ('[1, 2]', 400, None),                                                  # not an object
    ('{"messages": "hi"}', 400, "messages"),                                # wrong type
    ('{"messages": [{"role": "user", "content": "x"}], "max_tokens": "5"}', 400, "max_tokens"),
    ('{"messages": [{"role": "user", "content": "x"}], "top_p": 1.5}', 400, "top_p"),
    ('{"messages": [{"role": "user", "content": "x"}], "temperature": -1}', 400, "temperature"),
    ('{"messages": [{"role": "user", "content": "x"}], "n": 0}', 400, "n"),
    ('{"messages": [{"role": "user", "content": "x"}], "top_logprobs": 50, "logprobs": true}',
     400, "top_logprobs"),
    ('{"messages": [{"role": "user", "content": "x"}], "stop": [1]}', 400, "stop"),
    ('{"messages": [{"role": 5}]}', 400, "messages[0].role"),
    ('{"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}', 404, "model"),
])
def test_errors_have_openai_shape(smol, auth, body, status, param):
    r = requests.post(smol.url + "/v1/chat/completions", data=body,
                      headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"} and err["message"]
    assert err["param"] == param


def test_prompt_longer_than_context(smol, auth):
    r = requests.post(smol.url + "/v1/completions", headers=auth,
                      json={"prompt": "hello " * 2000, "max_tokens": 4})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "context_length_exceeded"


def test_openai_client_raises_typed_errors(client):
    import openai
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=CHAT, max_tokens=1)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="smol", messages=CHAT, max_tokens=-3)


def test_http_limits_and_routes(smol, auth):
    r = requests.post(smol.url + "/v1/completions", headers=auth,
                      data=json.dumps({"prompt": "x" * 300000}))
    assert r.status_code == 413
    r = requests.get(smol.url + "/v1/models", headers={**auth, "X-Big": "y" * 20000})
    assert r.status_code == 431
    assert requests.get(smol.url + "/v1/nope", headers=auth).status_code == 404
    assert requests.get(smol.url + "/v1/chat/completions", headers=auth).status_code == 405
    with socket.create_connection(("127.0.0.1", smol.port)) as s:  # garbage is a 400, not a crash
        s.sendall(b"\x00\xffGARBAGE\r\n\r\n")
        assert b" 400 " in s.recv(4096)
    assert requests.get(smol.url + "/health").status_code == 200


def test_disconnect_mid_stream_frees_the_sequence(smol):
    before = smol.metrics()["wick_generation_tokens_total"]
    body = json.dumps({"prompt": "Write a long story about a dragon.", "max_tokens": 400,
                       "stream": True, "temperature": 0, "ignore_eos": True})
    req = (f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
           f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}")
    s = socket.create_connection(("127.0.0.1", smol.port))
    s.sendall(req.encode())
    got = b""
    s.settimeout(60)
    while got.count(b"data: ") < 3:
        data = s.recv(4096)
        assert data, got
        got += data
    s.close()
    deadline = time.time() + 20
    while time.time() < deadline:
        m = smol.metrics()
        if m["wick_running_sequences"] == 0 and m["wick_kv_blocks_used"] == 0:
            break
        time.sleep(0.1)
    assert m["wick_running_sequences"] == 0 and m["wick_kv_blocks_used"] == 0
    assert m["wick_generation_tokens_total"] - before < 400


def test_websocket_stream_and_cancel(smol, client):
    from websockets.sync.client import connect
    want = client.chat.completions.create(model="smol", messages=CHAT, max_tokens=8,
                                          temperature=0).choices[0].message.content
    ws_url = smol.url.replace("http", "ws") + "/v1/ws"
    with connect(ws_url, additional_headers={"Authorization": f"Bearer {API_KEY}"}) as ws:
        ws.send(json.dumps({"messages": CHAT, "max_tokens": 8, "temperature": 0}))
        text = ""
        while (msg := ws.recv(timeout=60)) != "[DONE]":
            chunk = json.loads(msg)
            assert chunk["object"] == "chat.completion.chunk"
            text += chunk["choices"][0]["delta"].get("content") or ""
        assert text == want
        ws.send(json.dumps({"prompt": "Tell me a story", "max_tokens": 400, "temperature": 0,
                            "ignore_eos": True}))
        first = json.loads(ws.recv(timeout=60))
        assert first["object"] == "text_completion"
        ws.send(json.dumps({"type": "cancel"}))
        n = 0
        while ws.recv(timeout=60) != "[DONE]":
            n += 1
        assert n < 400
    deadline = time.time() + 10  # the engine drops a cancelled request at its next step
    while smol.metrics()["wick_running_sequences"] != 0 and time.time() < deadline:
        time.sleep(0.05)
    assert smol.metrics()["wick_running_sequences"] == 0


def stream_ids(url, prompt, max_tokens):
    r = requests.post(url + "/v1/completions", stream=True, timeout=120,
                      json={"prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
                            "logprobs": 0, "stream": True, "ignore_eos": True})
    assert r.status_code == 200
    events, done = sse_events(r)
    assert done
    ids = [t for e in events for c in e["choices"] if c["logprobs"] for t in c["logprobs"]["tokens"]]
    finish = [c["finish_reason"] for e in events for c in e["choices"] if c["finish_reason"]]
    return ids, finish


def test_32_concurrent_streams_equal_each_request_alone(tiny):
    # Token-id prompts (the golden model has no tokenizer); outputs compared id by id.
    prompts = [[(7 * i + 3 * j) % 256 for j in range(5 + i % 9)] for i in range(32)]
    alone = [stream_ids(tiny.url, p, 24) for p in prompts]
    results = [None] * 32

    def worker(i):
        results[i] = stream_ids(tiny.url, prompts[i], 24)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(32):
        assert results[i] == alone[i], f"client {i}"
        assert len(results[i][0]) == 24 and results[i][1] == ["length"]


def test_concurrent_smollm2_streams_complete(smol, auth):
    out = [None] * 8

    def worker(i):
        r = requests.post(smol.url + "/v1/chat/completions", stream=True, headers=auth,
                          json={"messages": [{"role": "user", "content": f"Count to {i + 3}."}],
                                "max_tokens": 8, "stream": True,
                                "stream_options": {"include_usage": True}})
        out[i] = sse_events(r)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for events, done in out:
        assert done
        assert events[-1]["usage"]["completion_tokens"] >= 1
        assert any(c["finish_reason"] for e in events for c in e["choices"])


def test_sigterm_drains_running_requests():
    s = Server(TINY, "--model-name", "tiny")
    result = {}

    def worker():
        result["v"] = stream_ids(s.url, [1, 2, 3, 4], 200)

    t = threading.Thread(target=worker)
    t.start()
    time.sleep(0.3)
    assert s.stop() == 0
    t.join()
    ids, finish = result["v"]
    assert len(ids) == 200 and finish == ["length"]
    with pytest.raises(requests.ConnectionError):
        requests.get(s.url + "/health", timeout=2)


def test_full_queue_answers_503_with_retry_after():
    s = Server(TINY, "--model-name", "tiny", "--max-batch", "1", "--max-queue", "1")
    try:
        statuses, headers = [], []

        def worker():
            r = requests.post(s.url + "/v1/completions", timeout=120,
                              json={"prompt": [1, 2, 3], "max_tokens": 150, "temperature": 0})
            statuses.append(r.status_code)
            headers.append(r.headers.get("Retry-After"))

        threads = [threading.Thread(target=worker) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert 200 in statuses and 503 in statuses
        assert all(h == "1" for st, h in zip(statuses, headers) if st == 503)
    finally:
        assert s.stop() == 0


def test_websocket_half_frame_times_out_and_frees_the_thread():
    # A client that starts a frame and stalls is dropped after --request-timeout; the server
    # keeps answering (the connection thread is not pinned) and drains cleanly.
    import base64
    import os
    s = Server(TINY, "--model-name", "tiny", "--request-timeout", "1", "--max-connections", "2")
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        c = socket.create_connection(("127.0.0.1", s.port))
        c.sendall((f"GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        c.settimeout(30)
        head = b""
        while b"\r\n\r\n" not in head:
            head += c.recv(4096)
        assert b" 101 " in head
        # FIN + text opcode, masked (a zero mask keeps the 3 bytes valid UTF-8), 100-byte
        # payload announced; send the mask and 3 bytes only.
        c.sendall(bytes([0x81, 0x80 | 100]) + bytes(4) + b"abc")
        start = time.time()
        rest = b""
        while True:
            data = c.recv(4096)
            if not data:
                break
            rest += data
        assert time.time() - start < 20
        c.close()
        # The freed slot serves new requests.
        for _ in range(3):
            assert requests.get(s.url + "/health", timeout=10).status_code == 200
    finally:
        assert s.stop() == 0
