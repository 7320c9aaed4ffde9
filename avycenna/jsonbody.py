"""The one strict reader of JSON request bodies, and the parts that use it.

Stricter than `json.loads`, because every body ends up in a database or a mail:
NaN/Infinity literals and duplicate keys are malformed JSON; nesting deeper than
MAX_DEPTH, NUL characters and unpaired surrogates (which PostgreSQL and UTF-8
cannot store) are refused before any view sees the body. Flask's `request.get_json`
(through `JSONProvider`), webargs (through `Parser`) and the wearable ingest
all read bodies with `loads`, so each rule holds on every endpoint, once.
"""
import json
import re

from flask import Request as FlaskRequest
from flask.json.provider import DefaultJSONProvider
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy

from avycenna.errors import ApiError, validation_error

MAX_DEPTH = 32
FORBIDDEN_TEXT = re.compile("[\x00\ud800-\udfff]")
MALFORMED = "Malformed JSON body."


class MalformedJSON(json.JSONDecodeError):
    """A body that parses but breaks one of the rules above; `reason` says which."""

    def __init__(self, reason):
        super().__init__(reason, "<body>", 0)
        self.reason = reason


def _no_constants(name):
    raise MalformedJSON(f"{MALFORMED[:-1]}: {name} is not a JSON number.")


def _no_duplicates(pairs):
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise MalformedJSON(f"{MALFORMED[:-1]}: the key {key!r} appears twice in one object.")
            seen.add(key)
    return result


def check_text(text):
    """True when `text` holds no NUL character and no unpaired surrogate."""
    return FORBIDDEN_TEXT.search(text) is None


def _check_tree(value):
    """Depth and text rules over a parsed body, without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
            texts = item.keys()
        elif isinstance(item, list):
            children, texts = item, ()
        else:
            if isinstance(item, str) and not check_text(item):
                raise MalformedJSON("Text may not contain NUL characters or unpaired surrogates.")
            continue
        if depth > MAX_DEPTH:
            raise MalformedJSON(f"JSON nested more than {MAX_DEPTH} levels deep.")
        if any(not check_text(key) for key in texts):
            raise MalformedJSON("Text may not contain NUL characters or unpaired surrogates.")
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list, str)))
    return value


def loads(data):
    """Parse a request body strictly; `json.JSONDecodeError` (maybe `MalformedJSON`) when bad."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedJSON("Request body is not valid UTF-8.") from exc
    try:
        value = json.loads(data, parse_constant=_no_constants, object_pairs_hook=_no_duplicates)
    except RecursionError as exc:
        raise MalformedJSON(f"JSON nested more than {MAX_DEPTH} levels deep.") from exc
    return _check_tree(value)


def malformed_detail(error):
    """The client's message for a body `loads` refused."""
    return error.reason if isinstance(error, MalformedJSON) else MALFORMED


class JSONProvider(DefaultJSONProvider):
    """`app.json`: request bodies read through `request.get_json` use the strict `loads`."""

    def loads(self, s, **kwargs):
        return loads(s)


class Request(FlaskRequest):
    def on_json_loading_failed(self, e):
        if e is None:
            return super().on_json_loading_failed(e)
        raise ApiError(400, malformed_detail(e))


class Parser(FlaskParser):
    """webargs for flask-smorest: strict JSON bodies, each query parameter given once."""

    def _raw_load_json(self, req):
        if not req.is_json:
            return super()._raw_load_json(req)
        return loads(req.get_data(cache=True))

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise ApiError(400, malformed_detail(error))

    def load_querystring(self, req, schema):
        lists = MultiDictProxy({}, schema).multiple_keys
        for name, values in req.args.lists():
            if len(values) > 1 and name not in lists:
                validation_error(["query", name], "Give this parameter once.", "value_error.repeated")
        return super().load_querystring(req, schema)


def init_app(app):
    app.json = JSONProvider(app)
    app.request_class = Request

