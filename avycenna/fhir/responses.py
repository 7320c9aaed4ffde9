"""FHIR responses: `application/fhir+json` bodies, links on this server, paged searchsets."""
import json
from urllib.parse import urlencode

from flask import current_app, request

from avycenna.fhir.resources import bundle, operation_outcome
from avycenna.fhir.search import bad
from avycenna.http import public_url
from avycenna.pagination import decode_cursor, encode_cursor

FHIR_JSON = "application/fhir+json"

BASE = "/fhir/R4"


def fhir_response(body, status=200, headers=None):
    response = current_app.response_class(json.dumps(body, separators=(",", ":")), status=status,
                                          mimetype=FHIR_JSON, headers=headers)
    return response


def error_response(status, detail):
    """Any error on /fhir/R4 as an OperationOutcome; a bad parameter (422 elsewhere) is a 400 here."""
    status = 400 if status == 422 else status
    return fhir_response(operation_outcome(status, detail), status)


def base_url():
    return public_url(BASE)


def full_url(resource):
    return f"{base_url()}/{resource['resourceType']}/{resource['id']}"


def encode_page(mode, key):
    """A signed next-page token: the search mode and the last key (opaque to clients)."""
    return encode_cursor([mode, key])


def decode_page(token, mode):
    """The key inside a next-page token of this endpoint and mode; a bad one is a 400 on `cursor`."""
    if token is None:
        return None
    value = decode_cursor(token)
    if not (isinstance(value, list) and len(value) == 2 and value[0] == mode and isinstance(value[1], list)):
        bad("cursor", "This cursor belongs to a different search: follow the Bundle's next link as given.")
    return value[1]


def page_url(token):
    """This request's URL on the public base with `cursor` set to `token`."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
    if token is not None:
        args.append(("cursor", token))
    query = urlencode(args)
    return public_url(request.path) + (f"?{query}" if query else "")


def searchset(found, next_token):
    """A page of results; `found` an int is the `_count=0` answer: the total, no entries."""
    if isinstance(found, int):
        body = bundle("searchset", [], page_url(None))
        del body["entry"]
        body["total"] = found
        return body
    return bundle("searchset", [(full_url(r), r) for r in found], page_url(request.args.get("cursor")),
                  page_url(next_token) if next_token is not None else None)
