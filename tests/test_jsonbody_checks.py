"""The strict reader's fast checks on a body's bytes agree with its checks on the text."""
import json
import random

import pytest

from avycenna import jsonbody

PIECES = ["a", "[", "]", "{", "}", '\\"', "\\\\", "\\u0000", "\\ud800", "\\ud83d\\ude00", "é", "✓", ":", ","]


def random_value(rng, depth):
    kind = rng.randrange(5 if depth < 40 else 2)
    if kind == 0:
        return rng.choice([1, 2.5, True, None])
    if kind == 1:
        return json.loads('"' + "".join(rng.choice(PIECES) for _ in range(rng.randrange(4))) + '"')
    if kind == 2:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {json.loads('"' + rng.choice(PIECES) + str(i) + '"'): random_value(rng, depth + 1)
            for i in range(rng.randrange(3))}


@pytest.mark.parametrize("seed", range(40))
def test_depth_and_text_checks_on_bytes_match_those_on_text(seed, monkeypatch):
    monkeypatch.setattr(jsonbody, "MAX_DEPTH", seed % 5)  # small limits: the bracket passes run
    rng = random.Random(seed)
    deep = 0
    for _ in range(50):
        value = random_value(rng, 0)
        text = json.dumps(value, ensure_ascii=rng.random() < 0.5)
        raw = text.encode("utf-8", "surrogatepass")
        if rng.random() < 0.3:
            raw = raw.replace(b"\\\\", b"x").replace(b'\\"', b"y")  # often no backslash at all
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            json.loads(text)
        if "\ud800" <= max(text, default="a") or any("\ud800" <= c <= "\udfff" for c in text):
            continue  # raw surrogates never come out of the strict UTF-8 decoder
        assert jsonbody._too_deep(text, raw) == jsonbody._too_deep(text)
        deep += jsonbody._too_deep(text)
        assert jsonbody._suspect(text, raw) == jsonbody._suspect(text)
    assert deep > 0 or seed % 5 > 2  # the bracket passes did run


@pytest.mark.parametrize("text", ['{"a": "[[[", "b": [[[]]]}', '{"[": "x", "y": "]]"}', '["\\"[[[[", []]'])
def test_brackets_in_strings_do_not_count(text):
    deep = "[" * 40 + "]" * 40
    for body in (text, text[:-1] + ", " + deep + text[-1]):
        assert jsonbody._too_deep(body, body.encode()) == jsonbody._too_deep(body) == (deep in body)
