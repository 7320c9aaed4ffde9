"""Driving the authorization server in tests: register a client, sign in and approve on the consent
page, exchange the code — with the Flask test client (`flask_*`) or over HTTP (`http_approve`)."""
import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

PASSWORD = "correct horse battery"
REDIRECT = "http://127.0.0.1:1/callback"
BASE = "http://127.0.0.1:8000"  # PUBLIC_BASE_URL of the test app
RESOURCE = BASE + "/mcp"
STATELESS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
LIST_PATIENTS = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "list_patients", "arguments": {}}}


def csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def register(client, **extra):
    body = {"client_name": "Test Assistant", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"], **extra}
    r = client.post("/oauth/register", json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def authorize_path(client_id, challenge, **extra):
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "st-1",
              "code_challenge": challenge, "code_challenge_method": "S256", "scope": "mcp offline_access",
              "resource": RESOURCE, **extra}
    return "/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def flask_sign_in(web, email, password=PASSWORD):
    token = csrf(web.get("/signin").get_data(as_text=True))
    r = web.post("/signin/password", data={"email": email, "password": password, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)


def flask_consent(web, path, decision="allow"):
    """The consent page's answer: the redirect's query ({name: value})."""
    page = web.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    r = web.post(path, data={"csrf_token": csrf(page.get_data(as_text=True)), "decision": decision})
    assert r.status_code == 302, r.get_data(as_text=True)
    return redirect_query(r.headers["Location"])


def redirect_query(location):
    assert location.startswith(REDIRECT), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(client, client_id, code, verifier, **extra):
    return client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code, "client_id": client_id,
                                             "redirect_uri": REDIRECT, "code_verifier": verifier,
                                             "resource": RESOURCE, **extra})


def refresh(client, client_id, token, **extra):
    return client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token,
                                             "client_id": client_id, "resource": RESOURCE, **extra})


def connect(client, web, user):
    """A registered client, approved by `user`: (client_id, token response)."""
    client_id = register(client)["client_id"]
    flask_sign_in(web, user.email)
    verifier, challenge = pkce()
    answer = flask_consent(web, authorize_path(client_id, challenge))
    r = exchange(client, client_id, answer["code"], verifier)
    assert r.status_code == 200, r.get_json()
    return client_id, r.get_json()


def mcp_status(client, access_token, message=LIST_PATIENTS):
    r = client.post("/mcp", json=message, headers={**STATELESS, "Authorization": "Bearer " + access_token})
    return r.status_code, r


def http_approve(session, base, email, authorize_url, password=PASSWORD):
    """Sign in on the live server's page and allow on its consent page: the redirect's query."""
    r = session.get(base + "/signin")
    r = session.post(base + "/signin/password", data={"email": email, "password": password, "csrf_token": csrf(r.text)},
                     allow_redirects=False)
    assert r.status_code == 302, r.text
    page = session.get(authorize_url)
    assert page.status_code == 200 and "Connect" in page.text, page.text
    r = session.post(authorize_url, data={"csrf_token": csrf(page.text), "decision": "allow"}, allow_redirects=False)
    assert r.status_code == 302, r.text
    return redirect_query(r.headers["Location"])


def backend_token(app, client, clinician):
    """A backend client registered for `clinician` (its own ES384 key) and a token it got: the
    response JSON."""
    import json
    import time
    import uuid

    from joserfc import jwt
    from joserfc.jwk import ECKey

    from avycenna.db import database
    from avycenna.oauth.backend import register_backend_client

    key = ECKey.generate_key("P-384", parameters={"kid": "ec-1"})
    with app.app_context(), database.obj.connection_context():
        client_id = register_backend_client(clinician, "EHR", json.dumps({"keys": [key.as_dict(private=False)]})).id
    claims = {"iss": client_id, "sub": client_id, "aud": BASE + "/oauth/token", "exp": int(time.time()) + 120,
              "jti": uuid.uuid4().hex}
    signed = jwt.encode({"alg": "ES384", "kid": "ec-1"}, claims, key, algorithms=["ES384"])
    r = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "system/*.rs",
                                          "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:"
                                                                   "jwt-bearer", "client_assertion": signed})
    assert r.status_code == 200, r.get_json()
    return r.get_json()
