# OpenAI tools through the real server (SmolLM2, whose template knows no tools: wick describes
# them in the system message and reads Hermes <tool_call> blocks). tool_choice "required" and a
# named function are constrained, so every completed call must name a declared function and its
# arguments must validate against the function's parameters (checked with `jsonschema`);
# streamed deltas must reassemble to the non-streamed calls; a tool result turn must work;
# malformed tools are 400s in OpenAI's error shape; schemas keep their property order.
import json

import openai
import pytest
import requests

WEATHER = {
    "type": "object",
    "properties": {
        "unit": {"enum": ["celsius", "fahrenheit"]},
        "city": {"type": "string", "maxLength": 24},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["unit", "city"],
    "additionalProperties": False,
}
SEARCH = {
    "type": "object",
    "properties": {"query": {"type": "string", "maxLength": 40},
                   "limit": {"type": "integer", "minimum": 1, "maximum": 10}},
    "required": ["query"],
}
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                      "parameters": WEATHER}},
    {"type": "function", "function": {"name": "web_search", "description": "Search the web",
                                      "parameters": SEARCH}},
]
SCHEMAS = {"get_weather": WEATHER, "web_search": SEARCH}
ASK = [{"role": "user", "content": "What is the weather in Paris today?"}]


def validate(calls):
    import jsonschema
    assert calls, "no tool calls"
    for c in calls:
        assert c.type == "function"
        assert c.id.startswith("call_")
        assert c.function.name in SCHEMAS
        args = json.loads(c.function.arguments)
        jsonschema.validate(args, SCHEMAS[c.function.name])
        order = [k for k in SCHEMAS[c.function.name]["properties"] if k in args]
        assert list(args) == order, "arguments out of the schema's order"


def test_required_calls_validate(client):
    pytest.importorskip("jsonschema")
    done = 0
    for seed in (1, 2, 3, 4):
        r = client.chat.completions.create(
            model="smol", messages=ASK, tools=TOOLS, tool_choice="required", max_tokens=120,
            temperature=1.0, seed=seed, parallel_tool_calls=seed % 2 == 0)
        ch = r.choices[0]
        if ch.finish_reason == "length":
            continue  # cut off: said so
        assert ch.finish_reason == "tool_calls"
        assert ch.message.content is None
        validate(ch.message.tool_calls)
        if seed % 2 == 1:
            assert len(ch.message.tool_calls) == 1
        done += 1
    assert done >= 2


def test_named_function_is_called(client):
    pytest.importorskip("jsonschema")
    for seed in (5, 6):
        r = client.chat.completions.create(
            model="smol", messages=ASK, tools=TOOLS, max_tokens=120, temperature=0.8, seed=seed,
            tool_choice={"type": "function", "function": {"name": "web_search"}},
            parallel_tool_calls=False)
        ch = r.choices[0]
        assert ch.finish_reason == "tool_calls", ch
        assert [c.function.name for c in ch.message.tool_calls] == ["web_search"]
        validate(ch.message.tool_calls)


def reassemble(stream):
    calls, content, finish = {}, "", None
    for chunk in stream:
        for ch in chunk.choices:
            d = ch.delta
            content += d.content or ""
            for tc in d.tool_calls or []:
                c = calls.setdefault(tc.index, {"id": None, "name": "", "arguments": ""})
                if tc.id:
                    assert c["id"] is None, "a call's id came twice"
                    c["id"] = tc.id
                    assert tc.type == "function"
                if tc.function and tc.function.name:
                    c["name"] += tc.function.name
                if tc.function and tc.function.arguments:
                    c["arguments"] += tc.function.arguments
            finish = ch.finish_reason or finish
    assert sorted(calls) == list(range(len(calls)))
    return content, [calls[i] for i in sorted(calls)], finish


def test_stream_reassembles_to_the_same_calls(client):
    for choice in ("required", {"type": "function", "function": {"name": "get_weather"}}):
        kw = dict(model="smol", messages=ASK, tools=TOOLS, tool_choice=choice, max_tokens=120,
                  temperature=0.9, seed=11)
        whole = client.chat.completions.create(**kw).choices[0]
        content, calls, finish = reassemble(client.chat.completions.create(stream=True, **kw))
        assert finish == whole.finish_reason
        assert (content or None) == whole.message.content
        assert [(c["name"], c["arguments"]) for c in calls] == [
            (c.function.name, c.function.arguments) for c in whole.message.tool_calls]
        assert all(c["id"].startswith("call_") for c in calls)


def test_auto_and_none(client):
    r = client.chat.completions.create(model="smol", messages=ASK, tools=TOOLS, max_tokens=60)
    ch = r.choices[0]
    if ch.message.tool_calls:  # the model chose to call: each call is whole and declared
        assert ch.finish_reason in ("tool_calls", "length")
        for c in ch.message.tool_calls:
            assert c.function.name in SCHEMAS
            json.loads(c.function.arguments)
    else:
        assert isinstance(ch.message.content, str)
    r = client.chat.completions.create(model="smol", messages=ASK, tools=TOOLS, tool_choice="none",
                                       max_tokens=30)
    assert not r.choices[0].message.tool_calls
    assert r.choices[0].finish_reason in ("stop", "length")


def test_tool_result_turn(client):
    first = client.chat.completions.create(
        model="smol", messages=ASK, tools=TOOLS, max_tokens=120, seed=3,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False).choices[0].message
    call = first.tool_calls[0]
    history = ASK + [
        first.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temp_c": 21})},
    ]
    r = client.chat.completions.create(model="smol", messages=history, tools=TOOLS,
                                       max_tokens=40)
    ch = r.choices[0]
    assert ch.finish_reason in ("stop", "length", "tool_calls")
    assert ch.message.content or ch.message.tool_calls
    # the same history streamed
    content, calls, finish = reassemble(client.chat.completions.create(
        model="smol", messages=history, tools=TOOLS, max_tokens=40, stream=True))
    assert finish == ch.finish_reason
    assert (content or None) == ch.message.content


@pytest.mark.parametrize("body, param", [
    ({"tools": [{"type": "function"}]}, "tools[0].function"),
    ({"tools": [{"type": "retrieval", "function": {"name": "f"}}]}, "tools[0].type"),
    ({"tools": [{"type": "function", "function": {"name": "bad name"}}]},
     "tools[0].function.name"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": "{}"}}]},
     "tools[0].function.parameters"),
    ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "nope"}}},
     "tool_choice"),
    ({"tools": TOOLS, "tool_choice": "always"}, "tool_choice"),
    ({"tool_choice": "required"}, "tool_choice"),
    ({"tools": TOOLS, "parallel_tool_calls": "yes"}, "parallel_tool_calls"),
    ({"tools": [{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "properties": {
            "n": {"type": "number", "multipleOf": 2}}}}}], "tool_choice": "required"},
     "tools[0].function.parameters"),
    ({"tools": TOOLS, "tool_choice": "required", "response_format": {"type": "json_object"}},
     "tool_choice"),
    ({"messages": ASK + [{"role": "assistant", "tool_calls": [{"id": "x"}]}]},
     "messages[1].tool_calls[0]"),
])
def test_bad_tools_are_400(smol, auth, body, param):
    full = {"model": "smol", "messages": ASK, "max_tokens": 5, **body}
    r = requests.post(smol.url + "/v1/chat/completions", headers=auth, json=full)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error"
    assert err["param"] == param
    assert isinstance(err["message"], str) and err["message"]


def test_openai_client_sees_400(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(
            model="smol", messages=ASK, tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "missing"}})
    assert e.value.status_code == 400
    assert "missing" in e.value.body["message"]


def test_schema_property_order_is_kept(client):
    schema = {"type": "object",
              "properties": {"zulu": {"type": "integer", "minimum": 0, "maximum": 9},
                             "alpha": {"enum": ["x", "y"]},
                             "mike": {"type": "boolean"}},
              "required": ["zulu", "alpha", "mike"], "additionalProperties": False}
    r = client.chat.completions.create(
        model="smol", messages=[{"role": "user", "content": "Give me JSON."}], max_tokens=60,
        response_format={"type": "json_schema", "json_schema": {"name": "o", "schema": schema}})
    doc = json.loads(r.choices[0].message.content)
    assert list(doc) == ["zulu", "alpha", "mike"]
    r = client.chat.completions.create(
        model="smol", messages=ASK, max_tokens=80, tool_choice="required",
        tools=[{"type": "function", "function": {"name": "f", "parameters": schema}}])
    args = json.loads(r.choices[0].message.tool_calls[0].function.arguments)
    assert list(args) == ["zulu", "alpha", "mike"]
