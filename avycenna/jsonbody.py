"""The one strict reader of JSON request bodies, and the parts that use it.

Stricter than `json.loads`, because every body ends up in a database or a mail:
NaN/Infinity literals, duplicate keys and nesting deeper than MAX_DEPTH are malformed
JSON (400); a NUL character or an unpaired surrogate in any text (which PostgreSQL and
UTF-8 cannot store) is a 422 naming where it is; both before any view sees the body.

A request's body is parsed once: `request_body()` (the value, or the refusal raised) and
`request_body_or_none()` (the value, or None) read it with `loads` on first use and keep the
result, or the refusal, on the request. Everything else reads that result: Flask's
`request.get_json` (through `Request`, the app's request class), webargs and so every
flask-smorest view (through `Parser`), the named rate limits' key functions, idempotency
and the wearable ingest. So each rule holds on every endpoint, and a body no rule accepts
is refused by the view's own error path — never by an exception in a rate-limit key.
"""
import json
import re

from flask import Request as FlaskRequest
from flask import request
from werkzeug.exceptions import HTTPException
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request
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
    """The error response for a body `loads` refused: a 422 for text, a 413 (or another HTTP
    error) that reading it raised, else a 400."""
    if isinstance(error, UnstorableText):
        error.refuse()
    if isinstance(error, HTTPException):
        raise error
    raise ApiError(400, malformed_detail(error))


def _read(req):
    """`(True, value)` or `(False, refusal)` for `req`'s body: parsed by `loads` the first time
    it is asked for, then kept on the request. The only place a request body is parsed.

    A JSON body's raw bytes are not kept once parsed (nothing else reads them, and the
    wearable ingest's may be megabytes); any other body's are, for the form parser."""
    result = req.strict_body
    if result is None:
        try:
            result = (True, loads(req.get_data(cache=not req.is_json)))
        except (ValueError, HTTPException) as error:  # not JSON by our rules; too large (413)
            result = (False, error)
        req.strict_body = result
    return result


def request_body():
    """The current request's body, parsed once by the strict reader. A body it refuses is
    raised as the API's error: 400 malformed (an empty body too), 413 too large, 422 text
    that cannot be stored."""
    ok, value = _read(request._get_current_object())
    if not ok:
        refuse(value)
    return value


def request_body_or_none():
    """The current request's JSON body (parsed once, as `request_body`), or None when the
    request is not JSON or the body is refused: for code that must not fail on a bad body
    (a rate-limit key), and leaves the refusal to the view's own reading of it."""
    req = request._get_current_object()
    if not req.is_json:
        return None
    ok, value = _read(req)
    return value if ok else None


class Request(FlaskRequest):
    """The app's request class: `get_json` (and `request.json`) answer from the strict reader,
    for this code and for every library alike."""

    strict_body = None  # what `_read` found: (True, value) or (False, refusal)

    @property
    def json_module(self):
        return StrictJSON

    @json_module.setter
    def json_module(self, value):
        """Flask sets `app.json` here on every request; request bodies keep the strict reader."""

    def get_json(self, force=False, silent=False, cache=True):
        """The body parsed once by the strict reader (`cache` is always on: there is one parse).
        Not JSON by its content type (unless `force`): None if `silent`, else a 415. Refused:
        None if `silent`, else the refusal (400/413/422)."""
        if not (force or self.is_json):
            return None if silent else self.on_json_loading_failed(None)
        ok, value = _read(self)
        if ok:
            return value
        if silent:
            return None
        refuse(value)

    def on_json_loading_failed(self, e):
        if e is None:
            return super().on_json_loading_failed(e)
        refuse(e)


class Parser(FlaskParser):
    """webargs for flask-smorest: strict JSON bodies, each query parameter given once."""

    def _raw_load_json(self, req):
        if not is_json_request(req):  # webargs' own test of a JSON body, so the two never disagree
            return missing
        ok, value = _read(req)
        if ok:
            return value
        if isinstance(value, UnstorableText):
            value.refuse()
        raise value  # webargs: an empty body is no body (missing), anything else a 400

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

