"""The README cannot rot: every setting is documented and its commands are the real ones."""
import os
import re

from avycenna.config import DEFAULTS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INTERNAL = {"API_TITLE", "API_VERSION", "OPENAPI_VERSION", "OPENAPI_URL_PREFIX", "OPENAPI_JSON_PATH",
            "OPENAPI_SWAGGER_UI_PATH", "OPENAPI_SWAGGER_UI_URL", "OPENAPI_REDOC_PATH",
            "OPENAPI_REDOC_URL", "JSON_SORT_KEYS", "RATELIMIT_HEADERS_ENABLED", "RATELIMIT_STRATEGY",
            "RATELIMIT_KEY_PREFIX", "MAIL_TIMEOUT",
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"}


def read(name):
    with open(os.path.join(ROOT, name)) as fh:
        return fh.read()


def test_every_setting_is_documented():
    readme = read("README.md")
    missing = [k for k in DEFAULTS if k not in INTERNAL and f"`{k}`" not in readme]
    assert not missing, f"settings missing from README's configuration table: {missing}"


def test_setup_commands_are_what_ci_and_make_run():
    readme = read("README.md")
    assert re.search(r"^make run\b", readme, re.M) and re.search(r"^make test\b", readme, re.M)
    ci = read(".ci/run")
    assert re.search(r"^make test$", ci, re.M), ".ci/run must run the README's test command"
    assert "make run" in ci
    makefile = read("Makefile")
    assert re.search(r"^run:.*\n\t\$\(PY\) app\.py$", makefile, re.M)
    assert re.search(r"^test:.*\n\t\$\(PY\) -m pytest", makefile, re.M)
