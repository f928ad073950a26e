# Starts real `wick serve` processes for the server tests: SmolLM2 (tokenizer, chat template;
# fast kernels, prefix caching off so a request alone always runs the same shapes) and the tiny
# golden llama under WICK_REFERENCE_KERNELS=1 for the exact concurrent-vs-alone comparison: the
# reference kernels' result for a row does not depend on how many rows the batch has, the fast
# CPU kernels' does (see docs/server.md).
# WICK_BIN names the binary (default: build/ci/apps/wick/wick).
import os
import re
import signal
import subprocess
import time

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SMOL = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
TINY = os.path.join(ROOT, "tests", "data", "models", "llama")
API_KEY = "sk-wick-test"


def wick_bin():
    return os.environ.get("WICK_BIN", os.path.join(ROOT, "build", "ci", "apps", "wick", "wick"))


class Server:
    def __init__(self, model, *args, env=None):
        if not os.path.exists(wick_bin()):
            pytest.skip(f"wick binary absent: {wick_bin()} (set WICK_BIN)")
        if not os.path.exists(model):
            pytest.skip(f"model absent: {model}")
        full_env = dict(os.environ, **(env or {}))
        self.proc = subprocess.Popen(
            [wick_bin(), "serve", "-m", model, "--port", "0", *args],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=full_env, text=True)
        line = self.proc.stderr.readline()
        m = re.search(r"http://[^:]+:(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"wick serve did not start: {line}{self.proc.stderr.read()}")
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("wick serve: /health never answered")

    def metrics(self):
        text = requests.get(self.url + "/metrics", timeout=10).text
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


@pytest.fixture(scope="session")
def smol():
    s = Server(SMOL, "--model-name", "smol", "--api-key", API_KEY, "--ctx-size", "512",
               "--kv-memory", "256MiB", "--max-body-bytes", "200000", "--max-header-bytes", "8192",
               "--temperature", "0", "--no-prefix-caching")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def tiny():
    s = Server(TINY, "--model-name", "tiny", "--max-batch", "64", "--step-tokens", "64",
               env={"WICK_REFERENCE_KERNELS": "1"})
    yield s
    s.stop()


@pytest.fixture()
def client(smol):
    import openai
    return openai.OpenAI(base_url=smol.url + "/v1", api_key=API_KEY, max_retries=0, timeout=120)


@pytest.fixture()
def auth():
    return {"Authorization": f"Bearer {API_KEY}"}
