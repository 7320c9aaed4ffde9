"""AVYCENNA: a self-hosted clinical API server."""
import logging
import os

from werkzeug.middleware.proxy_fix import ProxyFix

from avycenna import config as defaults


def load_config(app, test_config=None):
    """Defaults, then instance/config.py, then environment, then `test_config`."""
    app.config.from_mapping(defaults.DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for name in defaults.UNPREFIXED_ENV:
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    app.config.from_prefixed_env("AVYCENNA")
    if test_config:
        app.config.from_mapping(test_config)


def ensure_secret_key(app):
    """Use the configured key, else the one in instance/secret_key, else generate it (0600)."""
    if app.config.get("SECRET_KEY"):
        return
    path = os.path.join(app.instance_path, "secret_key")
    if not os.path.exists(path):
        import secrets
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    with open(path) as fh:
        app.config["SECRET_KEY"] = fh.read().strip()
    app.extensions["avycenna.secret_key_file"] = path  # the key's source (a restore may replace it)


def create_app(test_config=None):
    """Build the application: config, database, hooks, rate limits, API and pages."""
    instance_path = os.environ.get("AVYCENNA_INSTANCE_PATH") or (test_config or {}).get("INSTANCE_PATH")
    from flask import Flask

    app = Flask(__name__, instance_relative_config=True,
              instance_path=os.path.abspath(instance_path) if instance_path else None)
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)  # a new one is the server's alone
    load_config(app, test_config)
    ensure_secret_key(app)
    from avycenna import db
    app.config["DATABASE_URL"] = app.config["DATABASE_URL"] or db.default_url(app.instance_path)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from avycenna import logs
    logs.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from avycenna import api, cli, docs, errors, fhir, jobs, jsonbody, mcp, oauth, pipeline, ratelimit, web

    jsonbody.init_app(app)
    db.init_app(app)
    jobs.init_app(app)
    from avycenna import housekeeping  # noqa: F401 (registers its hourly job)
    from avycenna.encounters import submission  # noqa: F401 (receives payments and patient changes)
    from avycenna import webhooks
    webhooks.init_app(app)
    from avycenna.imports import service as imports  # noqa: F401 (registers the import job and sweep)
    pipeline.init_app(app)
    ratelimit.init_app(app)
    from avycenna import readiness
    readiness.init_app(app)
    errors.register(app)
    docs.init_app(app)
    app.extensions["avycenna_api"] = api.init_app(app)
    web.init_app(app)
    fhir.init_app(app)
    oauth.init_app(app)
    mcp.init_app(app)
    cli.init_app(app)
    return app
