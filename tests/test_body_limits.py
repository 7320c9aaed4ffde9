"""The server's own body limit (`MAX_REQUEST_BODY_SIZE`, what the API needs: the wearable batch)
against a real waitress server: a request whose Content-Length is over it is refused before its
body is read — waitress answers it itself, in plain text; a body within it but over its route's
own limit gets the API's JSON 413."""
import socket

import requests

from avycenna.serve import largest_body

MB = 1024 * 1024


def head_only(url_host, port, request_line, length):
    """Send a request's headers (Content-Length: `length`) and no body; the first answer read."""
    with socket.create_connection((url_host, port), timeout=30) as sock:
        sock.sendall((f"{request_line}\r\nHost: {url_host}:{port}\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {length}\r\n\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def test_the_server_limit_is_what_the_api_needs_not_the_export_size(app):
    assert app.config["MAX_REQUEST_BODY_SIZE"] == 10 * MB
    assert app.config["WEARABLES_MAX_CONTENT_LENGTH"] <= app.config["MAX_REQUEST_BODY_SIZE"]
    assert app.config["IMPORTS_UPLOAD_CHUNK_SIZE"] <= app.config["MAX_REQUEST_BODY_SIZE"]
    assert largest_body(app) == 10 * MB + 1 < app.config["IMPORTS_MAX_CONTENT_LENGTH"]


def test_an_anonymous_50_mb_sign_in_is_refused_before_its_body_is_sent(live_server):
    """Only the headers go out: the 413 comes back all the same (the body was never awaited)."""
    port = int(live_server.url.rsplit(":", 1)[1])
    answer = head_only("127.0.0.1", port, "POST /api/v1/auth/login HTTP/1.1", 50 * MB)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"Content-Type: text/plain" in rest  # waitress's own answer, documented


def test_a_body_just_within_the_server_limit_reaches_the_route(live_server):
    """The wearable batch's 10 MB pass waitress; the 1 MB sign-in route refuses a 2 MB body as JSON."""
    body = b'{"email": "a@example.test", "password": "' + b"x" * (2 * MB) + b'"}'
    r = requests.post(live_server.url + "/api/v1/auth/login", data=body, timeout=30,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.headers["Content-Type"] == "application/json"
    assert set(r.json()) == {"detail"}


def test_a_wearable_batch_of_the_full_10_mb_is_not_cut_by_the_server(live_server, key_for, owner, patient):
    """At the wearable route's own limit, exactly: the server lets it through to the route."""
    body = b'{"source": "watch", "samples": [], "pad": "' + b"x" * (10 * MB - 60) + b'"}'
    body = body[:-2] + b"x" * (10 * MB - len(body)) + b'"}'
    assert len(body) == 10 * MB
    r = requests.post(f"{live_server.url}/api/v1/patients/{patient.id}/wearables", data=body, timeout=60,
                      headers={"Content-Type": "application/json", **key_for(owner)})
    assert r.status_code == 422 and r.headers["Content-Type"] == "application/json", r.text[:200]
