"""The docs cannot rot: every setting is documented and the README's commands are the real ones."""
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
    table = read("docs/configuration.md")
    missing = [k for k in DEFAULTS if k not in INTERNAL and f"`{k}`" not in table]
    assert not missing, f"settings missing from docs/configuration.md: {missing}"


def test_setup_commands_are_what_ci_and_make_run():
    readme = read("README.md")
    assert re.search(r"^make run\b", readme, re.M) and re.search(r"^make test\b", readme, re.M)
    ci = read(".ci/run")
    assert re.search(r"^make test$", ci, re.M), ".ci/run must run the README's test command"
    assert "make run" in ci
    makefile = read("Makefile")
    assert re.search(r"^run:.*\n\t\$\(PY\) app\.py$", makefile, re.M)
    assert re.search(r"^test:.*\n\t\$\(PY\) -m pytest", makefile, re.M)


def test_readme_is_a_door_not_a_manual():
    """The README says what AVYCENNA is, how to set it up and walks through it; docs/ has the rest."""
    lines = read("README.md").count("\n")
    assert lines <= 300, f"README.md has {lines} lines; move reference material into docs/"
