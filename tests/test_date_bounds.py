"""FHIR dates at the edges of what Python's datetime and the database's epoch milliseconds hold:
an instant from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z is searched, anything else is a 400
OperationOutcome naming the parameter, for every caller (checked before access), never a 500.
And every 413 under /fhir is an OperationOutcome."""
from urllib.parse import quote

import pytest
import requests

from tests.factories import make_patient
from tests.fhir_helpers import fhir_json, outcome

SAMPLES = [("2025-11-30T23:59:59Z", 61), ("2025-12-01T00:00:00Z", 62), ("2026-01-01T00:00:00Z", 63)]
# Outside what a datetime holds (in UTC), or not a date at all; huge numbers among them.
OUT_OF_RANGE = ["0000", "0000-01-01", "0000-12-31T23:59:59Z", "0001-01-01T00:00:00+00:01",
                "9999-12-31T23:59:59-00:01", "9999-12-31T23:59:59.999-05:00", "10000-01-01",
                "99999999999999999999", "9" * 5000, "2026-13-01", "9999-12-31T24:00:00Z", "2026-02-30"]
# At the edges, but inside: searched like any other date (nothing stored there).
AT_THE_EDGES = ["ge9999-12-31T23:59:59Z", "gt9999-12-31T23:59:59.999Z", "9999", "9999-12", "9999-12-31",
                "eq9999-12-31T23:59:59Z", "lt0001-01-01", "le0001-01-01T00:00:00Z", "0001",
                "lt0001-01-01T00:00:00+00:00", "le9999-12-31T23:59:59.999999Z&date=ge9999"]


@pytest.fixture
def holder(make_user, token_for):
    user = make_user()
    return user, token_for(user)


@pytest.fixture
def pid(app, client, holder):
    user, headers = holder
    patient = make_patient(app, user)
    samples = [{"type": "heart_rate", "start": start, "value": value, "unit": "count/min"}
               for start, value in SAMPLES]
    r = client.post(f"/api/v1/patients/{patient.id}/wearables", json={"source": "watch", "samples": samples},
                    headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return str(patient.id)


@pytest.fixture
def stranger(make_user, token_for):
    """A clinician with no grant: may see nothing of the patient."""
    return token_for(make_user(role="clinician"))


def values(bundle):
    return [entry["resource"]["valueQuantity"]["value"] for entry in bundle.get("entry", [])]


@pytest.mark.parametrize("date", OUT_OF_RANGE)
def test_a_date_out_of_range_is_a_400_for_everyone(client, pid, holder, stranger, date):
    for headers in (holder[1], stranger):
        for prefix in ("", "ge", "lt"):
            issue = outcome(client.get(f"/fhir/R4/Observation?patient={pid}&date={prefix}{quote(date)}",
                                       headers=headers), 400)
            assert issue["code"] == "invalid" and issue["expression"] == ["date"]
        for name in ("start", "end"):
            issue = outcome(client.get(f"/fhir/R4/Patient/{pid}/$everything?{name}={quote(date)}",
                                       headers=headers), 400)
            assert issue["expression"] == [name]


@pytest.mark.parametrize("date", AT_THE_EDGES)
def test_a_date_at_the_edges_is_searched(client, pid, holder, stranger, date):
    query = "&date=".join(quote(part, safe="=") for part in date.split("&date="))
    for rollup in ("", "&rollup=hour", "&rollup=day"):
        found = fhir_json(client.get(f"/fhir/R4/Observation?patient={pid}&date={query}{rollup}", headers=holder[1]))
        assert found["type"] == "searchset" and values(found) == []
        outcome(client.get(f"/fhir/R4/Observation?patient={pid}&date={query}{rollup}", headers=stranger), 404)


@pytest.mark.parametrize("start,end,expected", [
    ("9999-12-31T23:59:59Z", None, []), ("9999", None, []), ("9999-12-31T23:59:59.999Z", "9999", []),
    (None, "9999", [61, 62, 63]), (None, "9999-12-31T23:59:59Z", [61, 62, 63]),
    ("0001-01-01T00:00:00Z", "9999-12", [61, 62, 63]), (None, "0001", []), ("0001", "0001-01-01T00:00:00Z", [])])
def test_everything_at_the_edges(client, pid, holder, stranger, start, end, expected):
    query = "&".join(f"{name}={quote(value)}" for name, value in (("start", start), ("end", end)) if value)
    found = fhir_json(client.get(f"/fhir/R4/Patient/{pid}/$everything?{query}", headers=holder[1]))
    assert sorted(values_of_observations(found)) == expected
    outcome(client.get(f"/fhir/R4/Patient/{pid}/$everything?{query}", headers=stranger), 404)


def values_of_observations(bundle):
    return [entry["resource"]["valueQuantity"]["value"] for entry in bundle.get("entry", [])
            if entry["resource"]["resourceType"] == "Observation"]


def test_periods_still_cover_what_they_name(client, pid, holder):
    """The end of a year, month or day is reckoned in milliseconds now: each still covers exactly itself."""
    for date, expected in (("2025", [61, 62]), ("2025-11", [61]), ("2025-12", [62]), ("2026", [63]),
                           ("2025-11-30", [61]), ("2025-11-30T23:59:59Z", [61]), ("2025-11-30T23:59", [61]),
                           ("ge2025-12&date=lt2026", [62]), ("gt2025-11-30T23:59:59Z&date=le2026-01-01", [62, 63]),
                           ("ge0001&date=le9999", [61, 62, 63]), ("2024-02", [])):
        query = "&date=".join(quote(part, safe="=") for part in date.split("&date="))
        found = fhir_json(client.get(f"/fhir/R4/Observation?patient={pid}&date={query}", headers=holder[1]))
        assert sorted(values(found)) == expected, date


@pytest.mark.parametrize("count", ["9" * 5000, "99999999999999999999", "\u00b2", "\uff11\uff10", "-1", "1001",
                                   "1e3", " 5x"])
def test_a_count_that_is_not_a_small_number_is_a_400(client, pid, holder, stranger, count):
    for headers in (holder[1], stranger):
        issue = outcome(client.get(f"/fhir/R4/Observation?patient={pid}&_count={quote(count)}", headers=headers), 400)
        assert issue["expression"] == ["_count"]
        issue = outcome(client.get(f"/fhir/R4/Patient/{pid}/$everything?_count={quote(count)}", headers=headers), 400)
        assert issue["expression"] == ["_count"]


def test_count_zero_is_a_total_for_a_search_and_a_400_for_everything(client, pid, holder):
    """FHIR's `_count=0` asks a search for its total only; `$everything` pages, so 0 is no page size."""
    body = client.get(f"/fhir/R4/Observation?patient={pid}&_count=0", headers=holder[1]).get_json()
    assert body["resourceType"] == "Bundle" and "entry" not in body and isinstance(body["total"], int)
    issue = outcome(client.get(f"/fhir/R4/Patient/{pid}/$everything?_count=0", headers=holder[1]), 400)
    assert issue["expression"] == ["_count"]


def test_every_413_under_fhir_is_an_operation_outcome(live_server, holder):
    """Over MAX_CONTENT_LENGTH (not waitress's far larger limit): the pipeline refuses it as FHIR."""
    big = b"a=" + b"x" * (2 * 1024 * 1024)
    for path in ("/fhir/R4/metadata", "/fhir/R4/Observation", "/fhir/R4/Patient/x/$everything",
                 "/fhir/R5/metadata", "/fhir/metadata"):
        response = requests.post(live_server.url + path, data=big, timeout=30,
                                 headers={**holder[1], "Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 413, (path, response.text)
        assert response.headers["Content-Type"] == "application/fhir+json", path
        body = response.json()
        assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == "too-costly", path
