"""The one strict reader of JSON request bodies, and the parts that use it.

Stricter than `json.loads`, because every body ends up in a database or a mail:
NaN/Infinity literals, duplicate keys and nesting deeper than MAX_DEPTH are malformed
JSON (400); a NUL character or an unpaired surrogate in any text (which PostgreSQL and
UTF-8 cannot store) is a 422 naming where it is; both before any view sees the body.
Flask's `request.get_json` (through `Request`), webargs (through `Parser`) and the
wearable ingest all read bodies with `loads`, so each rule holds on every endpoint, once.
"""
import json
import re

from flask import Request as FlaskRequest
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy

from avycenna.errors import ApiError, validation_error

MAX_DEPTH = 32
FORBIDDEN_TEXT = re.compile("[\x00\ud800-\udfff]")
# In the body's text, what could decode to forbidden text: a \u0000 or a surrogate escape (a
# pair, an emoji, matches too and is then checked string by string), or the characters raw.
SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
# A string literal (unrolled: one C loop per string) or a run of anything but brackets and quotes.
STRINGS_AND_NON_BRACKETS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[^\[\]{}"]+')
EMPTY_PAIR = re.compile(r"\[\]|\{\}")
EMPTY_PAIR_BYTES = re.compile(rb"\[\]|\{\}")
SUSPECT_ESCAPE_BYTES = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
NOT_BRACKET_OR_QUOTE = bytes(b for b in range(256) if b not in b'[]{}"')
MALFORMED = "Malformed JSON body."


class MalformedJSON(json.JSONDecodeError):
    """A body that parses but breaks one of the rules above; `reason` says which."""

    def __init__(self, reason):
        super().__init__(reason, "<body>", 0)
        self.reason = reason


class UnstorableText(ValueError):
    """Text with a NUL character or an unpaired surrogate at `loc` (a list of keys and indexes)."""

    msg = "Text may not contain NUL characters or unpaired surrogates."

    def __init__(self, loc):
        super().__init__(self.msg)
        self.loc = loc

    def refuse(self, where="body"):
        """The 422 for it, as every validation error looks."""
        validation_error([where, *self.loc], self.msg, "value_error.text")


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


def _too_deep(text, raw=None):
    """Whether a parsed body's text nests more than MAX_DEPTH arrays/objects: its brackets
    (strings removed) lose one level per pass of removing empty pairs. A few passes of C
    regex over the text instead of a Python walk over every value.

    `raw`, the body's UTF-8 bytes, allows a cheaper start when it has no backslash (so no
    escaped quote): deleting all but brackets and quotes leaves `""` for every string
    without brackets in it, and once those are gone a quote left over means some string
    held a bracket — then the regex over the text decides, as it would anyway."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    brackets, empty_pair = None, EMPTY_PAIR
    if raw is not None and b"\\" not in raw:
        brackets = raw.translate(None, NOT_BRACKET_OR_QUOTE).replace(b'""', b"")
        if b'"' in brackets:
            brackets = None
        else:
            empty_pair = EMPTY_PAIR_BYTES
    if brackets is None:
        brackets = STRINGS_AND_NON_BRACKETS.sub("", text)
    for _ in range(MAX_DEPTH):
        if not brackets:
            return False
        brackets = empty_pair.sub(brackets[:0], brackets)
    return bool(brackets)


def _find_unstorable(value):
    """Raise UnstorableText at the first string (or key) holding forbidden text, without recursion."""
    stack = [(value, ())]
    while stack:
        item, loc = stack.pop()
        if isinstance(item, str):
            if not check_text(item):
                raise UnstorableText(list(loc))
        elif isinstance(item, dict):
            for key, child in item.items():
                if not check_text(key):
                    raise UnstorableText([*loc, key])
                stack.append((child, (*loc, key)))
        elif isinstance(item, list):
            stack.extend((child, (*loc, i)) for i, child in enumerate(item))


def loads(data):
    """Parse a request body strictly: `json.JSONDecodeError` (maybe `MalformedJSON`) when it is
    not JSON, `UnstorableText` when text in it cannot be stored."""
    raw = None
    if isinstance(data, (bytes, bytearray)):
        raw = bytes(data)
        try:
            data = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedJSON("Request body is not valid UTF-8.") from exc
    try:
        value = json.loads(data, parse_constant=_no_constants, object_pairs_hook=_no_duplicates)
    except RecursionError as exc:
        raise MalformedJSON(f"JSON nested more than {MAX_DEPTH} levels deep.") from exc
    if _too_deep(data, raw):
        raise MalformedJSON(f"JSON nested more than {MAX_DEPTH} levels deep.")
    if _suspect(data, raw):  # rare: only then look at every string, to say where
        _find_unstorable(value)
    return value


def _suspect(text, raw=None):
    """Whether the text could hold a NUL or an unpaired surrogate once decoded (fast `in` scans
    first: most bodies have no \\u escape at all). From UTF-8 bytes (`raw`) only a NUL byte or
    an escape can: the strict UTF-8 decoder has already refused encoded surrogates."""
    if raw is not None:
        return b"\x00" in raw or (b"\\u" in raw and SUSPECT_ESCAPE_BYTES.search(raw) is not None)
    return ("\\u" in text and SUSPECT_ESCAPE.search(text) is not None) or not check_text(text)


def malformed_detail(error):
    """The client's message for a body `loads` refused."""
    return error.reason if isinstance(error, MalformedJSON) else MALFORMED


class StrictJSON:
    """What `request.get_json` parses with (only request bodies: responses keep `app.json`)."""

    loads = staticmethod(loads)
    dumps = staticmethod(json.dumps)


def refuse(error):
    """The error response for a body `loads` refused: a 422 for text, else a 400."""
    if isinstance(error, UnstorableText):
        error.refuse()
    raise ApiError(400, malformed_detail(error))


class Request(FlaskRequest):
    json_module = StrictJSON

    def on_json_loading_failed(self, e):
        if e is None:
            return super().on_json_loading_failed(e)
        refuse(e)


class Parser(FlaskParser):
    """webargs for flask-smorest: strict JSON bodies, each query parameter given once."""

    def _raw_load_json(self, req):
        if not req.is_json:
            return super()._raw_load_json(req)
        try:
            return loads(req.get_data(cache=True))
        except UnstorableText as error:
            error.refuse()

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        refuse(error)

    def load_querystring(self, req, schema):
        lists = MultiDictProxy({}, schema).multiple_keys
        for name, values in req.args.lists():
            if len(values) > 1 and name not in lists:
                validation_error(["query", name], "Give this parameter once.", "value_error.repeated")
        return super().load_querystring(req, schema)


def init_app(app):
    app.request_class = Request

