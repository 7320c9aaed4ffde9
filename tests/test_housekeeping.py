"""`flask --app app housekeeping`: expired codes, refresh tokens and overdue encounters go; live ones stay."""
from datetime import datetime, timedelta

import time_machine

from avycenna.auth.models import OtpCode, RefreshToken
from avycenna.db import database
from tests.agent_helpers import ask


def count(app, model):
    with app.app_context(), database.obj.connection_context():
        return model.select().count()


def test_housekeeping_deletes_only_what_expired(app, client, runner, make_user):
    user = make_user(password="correct horse battery")
    with time_machine.travel(datetime(2026, 11, 1, 9, 0), tick=False) as clock:
        client.post("/api/v1/auth/otp/send", json={"email": "old@example.test"})
        client.post("/api/v1/auth/login", json={"email": user.email, "password": "correct horse battery"})
        ask(client)  # an anonymous encounter nobody checks out
        clock.shift(timedelta(days=31))  # past the code's 10 minutes, the token's 30 days, the 72 h
        client.post("/api/v1/auth/otp/send", json={"email": "new@example.test"})
        client.post("/api/v1/auth/login", json={"email": user.email, "password": "correct horse battery"})
        assert (count(app, OtpCode), count(app, RefreshToken)) == (2, 2)
        result = runner.invoke(args=["housekeeping"])
    assert result.exit_code == 0, result.output
    assert "encounters expired: 1" in result.output
    assert "sign-in codes deleted: 1" in result.output and "refresh tokens deleted: 1" in result.output
    with app.app_context(), database.obj.connection_context():
        assert [c.email for c in OtpCode.select()] == ["new@example.test"]
        assert RefreshToken.select().count() == 1
