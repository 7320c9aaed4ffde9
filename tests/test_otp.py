"""E-mail sign-in codes: the seed's Quick Start, single use, latest only, expiry, brute force."""
import re

import time_machine

from avycenna.auth.models import OtpCode, User


def code_in(mailbox, email):
    return re.search(r"\b(\d{6})\b", mailbox.last_body(email)).group(1)


def send(client, email, **kwargs):
    return client.post("/api/v1/auth/otp/send", json={"email": email}, **kwargs)


def verify(client, email, otp, **kwargs):
    return client.post("/api/v1/auth/otp/verify", json={"email": email, "otp": otp}, **kwargs)


def wrong(code):
    return f"{(int(code) + 1) % 10**6:06d}"


def test_seed_quick_start(client, mailbox):
    r = send(client, "you@clinic.com")
    assert r.status_code == 202
    r = verify(client, "you@clinic.com", code_in(mailbox, "you@clinic.com"))
    assert r.status_code == 200
    tokens = r.get_json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    me = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert me.status_code == 200
    body = me.get_json()
    assert set(body) == {"id", "email", "name", "role", "created_at"}
    assert body["email"] == "you@clinic.com" and body["role"] == "member"
    assert re.fullmatch(r"usr_[A-Za-z0-9]+", body["id"]) and body["created_at"].endswith("Z")


def test_send_answers_the_same_whether_or_not_the_account_exists(client, mailbox, make_user):
    make_user(email="known@example.test")
    known, unknown = send(client, "known@example.test"), send(client, "nobody@example.test")
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()


def test_existing_account_signs_in_without_a_new_account(client, app, mailbox, make_user):
    user = make_user(role="clinician", email="doc@example.test")
    send(client, "Doc@Example.test")
    r = verify(client, "doc@example.test", code_in(mailbox, "doc@example.test"))
    me = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer " + r.get_json()["access_token"]})
    assert me.get_json()["id"] == user.id and me.get_json()["role"] == "clinician"
    with app.app_context():
        assert User.select().count() == 1


def test_code_is_stored_only_as_a_hash(client, app, mailbox):
    send(client, "pat@example.test")
    code = code_in(mailbox, "pat@example.test")
    with app.app_context():
        row = OtpCode.get()
        assert code not in row.code_hash and len(row.code_hash) == 64


def test_code_is_single_use(client, mailbox):
    send(client, "pat@example.test")
    code = code_in(mailbox, "pat@example.test")
    assert verify(client, "pat@example.test", code).status_code == 200
    r = verify(client, "pat@example.test", code)
    assert r.status_code == 401 and r.get_json() == {"detail": "Invalid or expired code."}


def test_only_the_latest_code_counts(client, mailbox):
    send(client, "pat@example.test")
    first = code_in(mailbox, "pat@example.test")
    send(client, "pat@example.test")
    latest = code_in(mailbox, "pat@example.test")
    if first != latest:
        assert verify(client, "pat@example.test", first).status_code == 401
    assert verify(client, "pat@example.test", latest).status_code == 200


def test_code_expires_after_ten_minutes(client, mailbox):
    with time_machine.travel("2026-11-22 10:00:00Z", tick=False) as clock:
        send(client, "pat@example.test")
        code = code_in(mailbox, "pat@example.test")
        clock.move_to("2026-11-22 10:10:01Z")
        assert verify(client, "pat@example.test", code).status_code == 401


def test_code_still_valid_just_before_ten_minutes(client, mailbox):
    with time_machine.travel("2026-11-22 10:00:00Z", tick=False) as clock:
        send(client, "pat@example.test")
        clock.move_to("2026-11-22 10:09:59Z")
        assert verify(client, "pat@example.test", code_in(mailbox, "pat@example.test")).status_code == 200


def test_five_wrong_tries_burn_the_code(client, mailbox):
    send(client, "pat@example.test")
    code = code_in(mailbox, "pat@example.test")
    for _ in range(5):
        assert verify(client, "pat@example.test", wrong(code)).status_code == 401
    assert verify(client, "pat@example.test", code).status_code == 401


def test_four_wrong_tries_leave_the_code_usable(client, mailbox):
    send(client, "pat@example.test")
    code = code_in(mailbox, "pat@example.test")
    for _ in range(4):
        verify(client, "pat@example.test", wrong(code))
    assert verify(client, "pat@example.test", code).status_code == 200


def test_code_is_bound_to_its_address(client, mailbox):
    send(client, "a@example.test")
    assert verify(client, "b@example.test", code_in(mailbox, "a@example.test")).status_code == 401


def test_malformed_code_is_422(client):
    r = verify(client, "pat@example.test", "12ab")
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["body", "otp"]


def test_without_signup_unknown_addresses_get_no_code_and_no_account(client, app, mailbox):
    app.config["ALLOW_SIGNUP"] = False
    assert send(client, "stranger@example.test").status_code == 202
    assert mailbox.to("stranger@example.test") == []
    assert verify(client, "stranger@example.test", "123456").status_code == 401
    with app.app_context():
        assert User.select().count() == 0


def test_without_signup_existing_accounts_still_sign_in(client, app, mailbox, make_user):
    app.config["ALLOW_SIGNUP"] = False
    make_user(email="known@example.test")
    send(client, "known@example.test")
    assert verify(client, "known@example.test", code_in(mailbox, "known@example.test")).status_code == 200


def test_disabled_account_cannot_sign_in_by_code(client, app, mailbox, make_user):
    user = make_user(email="gone@example.test")
    with app.app_context():
        User.update(is_active=False).where(User.id == user.id).execute()
    assert send(client, "gone@example.test").status_code == 202
    assert mailbox.to("gone@example.test") == []


def test_smtp_failure_is_503(client, app):
    from tests.conftest import free_port

    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=free_port())
    r = send(client, "pat@example.test")
    assert r.status_code == 503 and "Retry-After" in r.headers


def test_without_smtp_the_code_is_in_the_server_log(client, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="avycenna.mail")
    send(client, "pat@example.test")
    assert re.search(r"Your sign-in code is \d{6}", caplog.text)


def test_sends_are_throttled_per_address(client, app, mailbox):
    app.config["RATELIMIT_OTP_EMAIL"] = "2/hour"
    for i in range(2):
        assert send(client, "pat@example.test", environ_base={"REMOTE_ADDR": f"127.0.0.{i + 2}"}).status_code == 202
    r = send(client, "PAT@example.test", environ_base={"REMOTE_ADDR": "127.0.0.9"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert send(client, "other@example.test", environ_base={"REMOTE_ADDR": "127.0.0.9"}).status_code == 202


def test_malformed_sends_do_not_use_up_an_address_budget(client, app, mailbox):
    app.config["RATELIMIT_OTP_EMAIL"] = "2/hour"
    for _ in range(3):
        assert client.post("/api/v1/auth/otp/send", json={"email": "not-an-address"}).status_code == 422
    assert send(client, "pat@example.test").status_code == 202


def test_sends_are_throttled_per_client_ip(client, app, mailbox):
    app.config["RATELIMIT_OTP_IP"] = "3/hour"
    for i in range(3):
        assert send(client, f"p{i}@example.test").status_code == 202
    assert send(client, "p9@example.test").status_code == 429
    assert send(client, "p9@example.test", environ_base={"REMOTE_ADDR": "127.0.0.7"}).status_code == 202


def audit_text(app):
    from avycenna.audit.models import AuditEvent

    with app.app_context():
        return [str(e.__data__) for e in AuditEvent.select()]


def test_sends_and_sign_ins_are_audited_without_the_code(client, app, mailbox, caplog):
    import logging

    from avycenna.audit.models import AuditEvent

    caplog.set_level(logging.DEBUG)
    send(client, "pat@example.test")
    code = code_in(mailbox, "pat@example.test")
    verify(client, "pat@example.test", wrong(code))
    tokens = verify(client, "pat@example.test", code).get_json()
    with app.app_context():
        events = [(e.action, e.outcome) for e in AuditEvent.select().order_by(AuditEvent.at)]
        assert all(e.ip_hash for e in AuditEvent.select())
    assert events == [("auth.otp_send", "success"), ("auth.otp_verify", "failure"),
                      ("user.signup", "success"), ("auth.otp_verify", "success")]
    # Everything the server logged (the loopback SMTP server's own "mail.log" is the recipient's side).
    server_log = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    assert "otp_code" in server_log  # the SQL log really was captured
    for text in audit_text(app) + [server_log]:
        assert code not in text and wrong(code) not in text
        assert tokens["refresh_token"] not in text and tokens["access_token"] not in text
