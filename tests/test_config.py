"""Configuration: defaults < instance/config.py < environment < test config."""
import os

from avycenna import create_app


def test_precedence(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('PORT = 9001\nHOST = "0.0.0.0"\nTHREADS = 3\n')
    monkeypatch.setenv("AVYCENNA_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("AVYCENNA_PORT", "9002")
    app = create_app({"THREADS": 5})
    assert app.config["HOST"] == "0.0.0.0"        # instance/config.py beats the default
    assert app.config["PORT"] == 9002             # environment beats instance/config.py
    assert app.config["THREADS"] == 5             # test config beats everything
    assert app.config["MAIL_PORT"] == 25          # untouched default


def test_unprefixed_database_url_and_prefixed_override(tmp_path, monkeypatch):
    monkeypatch.setenv("AVYCENNA_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "a.db"))
    assert create_app().config["DATABASE_URL"].endswith("a.db")
    monkeypatch.setenv("AVYCENNA_DATABASE_URL", "sqlite:///" + str(tmp_path / "b.db"))
    assert create_app().config["DATABASE_URL"].endswith("b.db")


def test_default_database_is_sqlite_in_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("AVYCENNA_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["DATABASE_URL"] == "sqlite:///" + os.path.join(str(tmp_path / "inst"), "avycenna.sqlite3")


def test_secret_key_never_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("AVYCENNA_INSTANCE_PATH", str(tmp_path / "one"))
    first = create_app().config["SECRET_KEY"]
    monkeypatch.setenv("AVYCENNA_INSTANCE_PATH", str(tmp_path / "two"))
    second = create_app().config["SECRET_KEY"]
    assert first and second and first != second and len(first) >= 64
