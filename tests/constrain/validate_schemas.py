#!/usr/bin/env python3
"""Validates constrained generations against their JSON schemas with the independent Python
`jsonschema` package (formats checked where jsonschema has a checker).

Input: the JSON lines that wick_constrain_tests writes to $WICK_CONSTRAIN_OUT
({"schema": file, "seed": n, "reason": "eos" | "max_tokens", "text": ...}). Outputs that
stopped at max tokens are counted, not validated. Exit status 1 when any output that ended
normally fails to parse or validate.
    python3 tests/constrain/validate_schemas.py OUT.jsonl [tests/data/constrain/schemas]
"""
import json
import pathlib
import sys

import jsonschema


def main() -> int:
    out_path = pathlib.Path(sys.argv[1])
    schema_dir = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else
                              pathlib.Path(__file__).parents[1] / "data/constrain/schemas")
    checked = failed = truncated = 0
    for line in out_path.read_text().splitlines():
        rec = json.loads(line)
        if rec["reason"] != "eos":
            truncated += 1
            continue
        schema = json.loads((schema_dir / rec["schema"]).read_text())
        cls = jsonschema.validators.validator_for(schema)
        validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
        checked += 1
        try:
            validator.validate(json.loads(rec["text"]))
        except (ValueError, jsonschema.ValidationError) as e:
            failed += 1
            msg = e.message if isinstance(e, jsonschema.ValidationError) else str(e)
            print(f"FAIL {rec['schema']} seed {rec['seed']}: {msg}\n  {rec['text']!r}")
    print(f"validate_schemas: {checked - failed}/{checked} outputs valid, "
          f"{truncated} stopped at max tokens")
    return 1 if failed or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
