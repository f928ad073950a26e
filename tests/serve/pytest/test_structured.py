# Constrained output through the server: OpenAI response_format (json_schema, json_object),
# llama.cpp's grammar and vLLM's structured_outputs choice. Outputs must parse and validate
# against their schema with the independent `jsonschema` package (when installed); specs that do
# not parse or cannot be enforced are 400s naming the field, before anything runs.
import json

import pytest
import requests

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 20},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "colors": {"type": "array", "items": {"enum": ["red", "green", "blue"]},
                   "minItems": 1, "maxItems": 3},
    },
    "required": ["name", "age", "colors"],
    "additionalProperties": False,
}


def test_json_schema_output_validates(client):
    complete = 0
    for seed in (1, 2, 3):
        r = client.chat.completions.create(
            model="smol", messages=[{"role": "user", "content": "Describe a person as JSON."}],
            max_tokens=120, temperature=1.0, seed=seed,
            response_format={"type": "json_schema",
                             "json_schema": {"name": "person", "schema": SCHEMA}})
        choice = r.choices[0]
        if choice.finish_reason == "length":
            continue  # stopped early: the text is a prefix of a valid document, said so
        doc = json.loads(choice.message.content)
        complete += 1
        try:
            import jsonschema
        except ImportError:
            assert set(doc) == {"name", "age", "colors"}
            continue
        jsonschema.validate(doc, SCHEMA)
    assert complete >= 1, "every seed hit max_tokens"


def test_json_object_and_choice_and_grammar(smol, auth):
    url = smol.url + "/v1/completions"
    r = requests.post(url, headers=auth, json={
        "prompt": "A JSON object:", "max_tokens": 60, "temperature": 0.8, "seed": 4,
        "response_format": {"type": "json_object"}})
    assert r.status_code == 200, r.text
    c = r.json()["choices"][0]
    if c["finish_reason"] != "length":
        assert isinstance(json.loads(c["text"]), dict)
    r = requests.post(url, headers=auth, json={
        "prompt": "Pick a fruit:", "max_tokens": 10,
        "structured_outputs": {"choice": ["apple", "banana", "cherry"]}})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"] in ("apple", "banana", "cherry")
    r = requests.post(url, headers=auth, json={
        "prompt": "Answer yes or no:", "max_tokens": 10,
        "grammar": 'root ::= ("yes" | "no") "."'})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"] in ("yes.", "no.")


@pytest.mark.parametrize("extra,param", [
    ({"grammar": "root ::= undefined_rule"}, "grammar"),
    ({"response_format": {"type": "json_schema",
                          "json_schema": {"name": "x", "schema": {"not": {"type": "string"}}}}},
     "response_format"),
    ({"structured_outputs": {"regex": "(unclosed"}}, "structured_outputs"),
])
def test_bad_constraints_are_400(smol, auth, extra, param):
    r = requests.post(smol.url + "/v1/completions", headers=auth,
                      json={"prompt": "x", "max_tokens": 4, **extra})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["param"] == param and err["message"]
