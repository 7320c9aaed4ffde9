"""The docs site cannot rot: MkDocs builds it strictly, every page is in the nav, and the
README's links lead to files that exist.

`make test` runs this, so CI builds the site with `mkdocs build --strict` on every run: a
broken link or anchor, a missing image or a page left out of `mkdocs.yml`'s nav fails it.
"""
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def read(*parts):
    with open(os.path.join(ROOT, *parts)) as fh:
        return fh.read()


def nav_pages(entries):
    """Every page file named in a MkDocs nav, however deeply its sections nest."""
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            yield from nav_pages(value)
        else:
            yield value


def doc_pages():
    return {os.path.relpath(os.path.join(folder, name), DOCS).replace(os.sep, "/")
            for folder, _, names in os.walk(DOCS) for name in names if name.endswith(".md")}


def test_mkdocs_builds_the_site_strictly(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--clean",
                           "--config-file", os.path.join(ROOT, "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (f"mkdocs build --strict failed (pip install -r requirements-dev.txt installs it):\n"
                                  f"{done.stdout}{done.stderr}")
    assert (tmp_path / "site" / "index.html").is_file()


def test_every_page_under_docs_is_in_the_nav():
    config = yaml.safe_load(read("mkdocs.yml"))
    listed = list(nav_pages(config["nav"]))
    assert len(listed) == len(set(listed)), f"a page is in the nav twice: {sorted(listed)}"
    assert set(listed) == doc_pages(), {"not in the nav": sorted(doc_pages() - set(listed)),
                                        "in the nav but missing": sorted(set(listed) - doc_pages())}


def test_mkdocs_config_keeps_its_strict_checks():
    config = yaml.safe_load(read("mkdocs.yml"))
    assert config["strict"] is True
    assert {k: config["validation"][k] for k in ("omitted_files", "absolute_links", "unrecognized_links")} == \
        {"omitted_files": "warn", "absolute_links": "warn", "unrecognized_links": "warn"}


def test_readme_links_lead_to_files_that_exist():
    targets = [t for t in LINK.findall(read("README.md")) if not re.match(r"[a-z]+:", t)]
    assert any(t.startswith("docs/") for t in targets), "the README should point into docs/"
    missing = [t for t in targets if t.startswith("/") or not os.path.exists(os.path.join(ROOT, t.split("#")[0]))]
    assert not missing, f"README links that lead nowhere (or are absolute): {missing}"


def test_readme_links_every_page_of_the_docs():
    """The README is the door: each docs page is one click from it."""
    linked = {t.split("#")[0][len("docs/"):] for t in LINK.findall(read("README.md")) if t.startswith("docs/")}
    assert doc_pages() - linked == set(), f"docs pages the README does not link: {sorted(doc_pages() - linked)}"
