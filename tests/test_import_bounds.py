"""Hostile exports are refused as soon as they cross a bound, or finish, with flat memory and a
reason the person can read on the import's status; the skipped kinds stay a short list.

For memory, each import runs as its job in a child process (tests/import_child.py) whose peak
is compared with the same job importing the small sample export: what a hostile file may add
is a fixed allowance, where unbounded parsing added hundreds of megabytes to gigabytes. The
status page and API are checked in this process on smaller files crossing the same bounds.
"""
import json
import os
import subprocess
import sys

import pytest

from tests import hostile_exports
from tests.test_web_security import HTML, sign_in

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALLOWANCE_MB = 64  # what an import may add to the child's peak over the sample's


def run_in_child(tmp_path, database_url, kind, size=0):
    instance = tmp_path / f"child-{kind.replace(' ', '-')}"
    url = database_url if database_url.startswith("postgres") else ""
    out = subprocess.run([sys.executable, "-m", "tests.import_child", str(instance), url, kind, str(size)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def baseline_mb(tmp_path, database_url):
    """The child's peak importing the small sample export (Python, the app, one import)."""
    child = run_in_child(tmp_path, database_url, "sample")
    assert child["status"]["status"] == "done"
    return child["peak_mb"]


@pytest.mark.parametrize("kind, size, reason", [
    ("deep nesting", 4_000_000, "nests elements more than 32 deep"),
    ("long attribute", 32 << 20, "single tag, attribute or comment longer than 1 MiB"),
])
def test_a_hostile_export_is_refused_early_with_flat_memory(tmp_path, database_url, baseline_mb, kind, size,
                                                            reason):
    child = run_in_child(tmp_path, database_url, kind, size)
    body = child["status"]
    assert body["status"] == "failed" and body["error"].startswith("The import was refused: "), body
    assert reason in body["error"] and "0 samples read before that point were stored" in body["error"]
    assert child["peak_mb"] < baseline_mb + ALLOWANCE_MB, (child["peak_mb"], baseline_mb)
    assert child["uploads_left"] == []


def test_whitespace_between_records_is_read_and_dropped(tmp_path, database_url, baseline_mb):
    """Valid XML padded with 256 MiB of whitespace (a 1 GiB one held 1.07 GB): it finishes, and
    the whitespace is never kept."""
    child = run_in_child(tmp_path, database_url, "whitespace", 256 << 20)
    assert child["status"]["status"] == "done" and child["status"]["inserted"] == {"heart_rate": 2}, child
    assert child["peak_mb"] < baseline_mb + ALLOWANCE_MB, (child["peak_mb"], baseline_mb)


def test_distinct_unknown_types_keep_the_top_kinds_and_an_other_count(tmp_path, database_url, baseline_mb):
    """300,000 unknown record types: the status names the 50 most frequent, sums the rest under
    "(other kinds)" and stays a few kilobytes (it was an 11 MB response)."""
    from avycenna.wearables.apple_health import KIND_LENGTH, MAX_KINDS, OTHER_KINDS

    child = run_in_child(tmp_path, database_url, "distinct types", 300_000)
    body = child["status"]
    assert body["status"] == "done" and body["inserted_total"] == 0
    assert len(body["skipped"]) == MAX_KINDS + 1 and sum(body["skipped"].values()) == 300_000
    assert body["skipped"][OTHER_KINDS] == 300_000 - MAX_KINDS
    assert all(len(kind) <= KIND_LENGTH for kind in body["skipped"]) and len(json.dumps(body)) < 8_000
    assert child["peak_mb"] < baseline_mb + ALLOWANCE_MB, (child["peak_mb"], baseline_mb)


# In this process: what the person reads on the status page and from the API.

@pytest.fixture
def owner(make_user):
    """The patient's account holder, with a password to open the status page."""
    return make_user(password="correct horse battery")


def imported(app, patient, owner, make_file):
    """Write an upload with `make_file(path)`, record it and run its job here; the import's id."""
    from avycenna.db import database
    from avycenna.imports import service

    with app.app_context(), database.obj.connection_context():
        handle = service.upload_file()
        handle.close()
        make_file(handle.name)
        import_id = service.create(patient, owner, handle.name, "export.zip").id
    service.run_import.call_local(import_id)
    return import_id


@pytest.mark.parametrize("kind, size, reason", [
    ("deep nesting", 100, "nests elements more than 32 deep"),
    ("long attribute", 2 << 20, "single tag, attribute or comment longer than 1 MiB"),
])
def test_the_reason_is_on_the_status_page_and_in_the_api(client, app, patient, owner, headers, kind, size, reason):
    import_id = imported(app, patient, owner, lambda path: hostile_exports.HOSTILE[kind](path, size))
    body = client.get(f"/api/v1/patients/{patient.id}/imports/{import_id}", headers=headers).get_json()
    assert body["status"] == "failed" and reason in body["error"]
    sign_in(client, owner.email)
    page = client.get(f"/account/patients/{patient.id}/imports/{import_id}", headers=HTML)
    assert page.status_code == 200 and reason in page.get_data(as_text=True)


def test_the_status_page_lists_the_top_kinds_and_the_others(client, app, patient, owner, headers):
    from avycenna.wearables.apple_health import MAX_KINDS, OTHER_KINDS

    import_id = imported(app, patient, owner, lambda path: hostile_exports.distinct_types(path, 3_000))
    r = client.get(f"/api/v1/patients/{patient.id}/imports/{import_id}", headers=headers)
    assert len(r.get_json()["skipped"]) == MAX_KINDS + 1 and len(r.data) < 8_000
    sign_in(client, owner.email)
    page = client.get(f"/account/patients/{patient.id}/imports/{import_id}", headers=HTML).get_data(as_text=True)
    assert OTHER_KINDS in page and page.count("HKQuantityTypeIdentifierUnknown") == MAX_KINDS


@pytest.mark.parametrize("xml, reason", [
    (b"<H>" + b"".join(b"<x%d/>" % i for i in range(2000)) + b"</H>", "more than 1,000 different element"),
    (b'<!DOCTYPE H [<!ENTITY a SYSTEM "file:///etc/passwd">]><H a="&a;"/>', "external or parameter entity"),
    (b'<!DOCTYPE H [<!ENTITY a "x"><!ENTITY b "&a;&a;">]><H a="&b;"/>', "longer or nested entities"),
    (b"<H><!--" + b"x" * (2 << 20), "single tag, attribute or comment longer than 1 MiB"),
])
def test_the_parser_refuses_names_entities_and_long_comments(xml, reason):
    from avycenna.wearables.bounded_xml import CHUNK, BoundedParser, Refused

    parser = BoundedParser(lambda elem: None)
    with pytest.raises(Refused, match=reason):
        for i in range(0, len(xml), CHUNK):
            parser.feed(xml[i:i + CHUNK])
        parser.close()
