"""A FHIR client nobody here wrote, `fhirclient` (PyPI, SMART on FHIR's Python client, R4
models), against the real server over HTTP: the CapabilityStatement, Patient search with
paging, and reads of everything a search emits, all parsed by its R4 models (which refuse an
unknown element or a missing required one). A person's client sends an API key; a clinic's
connector a SMART Backend Services token, got over HTTP with its own key pair."""
import requests
from fhirclient import client as fhir
from joserfc.jwk import ECKey
from fhirclient.models.group import Group
from fhirclient.models.observation import Observation
from fhirclient.models.patient import Patient

from tests.test_fhir import SAMPLES
from tests.test_grant_scopes import grant
from tests.test_oauth_backend import ASSERTION_TYPE, assertion, register

NAMES = ["Pat Ada", "Pat Bea", "Pat Cyd", "Pat Dee", "Pat Eve", "Other Person"]


def connect(url, headers):
    smart = fhir.FHIRClient(settings={"app_id": "avycenna-connector", "api_base": url + "/fhir/R4/"})
    smart.server.session.headers.update(headers)
    return smart.server


def backend_token(live_server, runner, tmp_path, clinician):
    """A connector registered for `clinician` (its own ES384 key) and the token it gets."""
    key = ECKey.generate_key("P-384", parameters={"kid": "ehr-1"})
    client_id = register(runner, tmp_path, clinician.email, key)
    r = requests.post(live_server.url + "/oauth/token", timeout=10, data={
        "grant_type": "client_credentials", "scope": "system/*.rs", "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(client_id, "ES384", key, aud=live_server.url + "/oauth/token")})
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def test_fhirclient_searches_pages_and_reads_unchanged(client, live_server, runner, tmp_path, make_user,
                                                       token_for, key_for):
    holder, dr = make_user("member"), make_user("clinician")
    h, dr_h = token_for(holder), token_for(dr)
    ids = {}
    for name in NAMES:
        r = client.post("/api/v1/patients", headers=h, json={
            "name": name, "date_of_birth": "1980-01-02", "relationship": "other", "sex_at_birth": "female"})
        ids[name] = r.get_json()["id"]
    assert client.post(f"/api/v1/patients/{ids['Pat Ada']}/wearables", headers=h,
                       json={"source": "watch", "samples": SAMPLES}).status_code == 200
    server = connect(live_server.url, key_for(holder))

    statement = server.capabilityStatement
    assert statement.fhirVersion == "4.0.1" and "json" in statement.format

    pages = list(Patient.where(struct={"name": "pat", "_count": "2"}).perform_iter(server))
    found = [entry.resource for page in pages for entry in page.entry or []]
    assert len(pages) == 3 and sorted(p.name[0].text for p in found) == NAMES[:5]
    assert [p.name[0].text for p in Patient.where(struct={"family": "eve"}).perform_resources_iter(server)] \
        == ["Pat Eve"]
    ada = Patient.read(ids["Pat Ada"], server)
    assert ada.birthDate.isostring == "1980-01-02" and ada.gender == "female"

    observations = list(Observation.where(struct={"patient": ids["Pat Ada"], "_count": "5"})
                        .perform_resources_iter(server))
    assert len(observations) == len(SAMPLES)
    for observation in observations:  # every id it was given reads back the same resource
        assert Observation.read(observation.id, server).as_json() == observation.as_json()
    rollups = list(Observation.where(struct={"patient": ids["Pat Ada"], "rollup": "day"})
                   .perform_resources_iter(server))
    assert rollups and all(r.method.coding[0].code in ("average", "sum") for r in rollups)
    assert Observation.read(rollups[0].id, server).as_json() == rollups[0].as_json()

    grant(client, h, dr_h, holder, ids["Pat Bea"], ["profile"])
    dr_server = connect(live_server.url, backend_token(live_server, runner, tmp_path, dr))
    (group,) = list(Group.where(struct={}).perform_resources_iter(dr_server))
    assert [m.entity.reference for m in Group.read(group.id, dr_server).member] == [f"Patient/{ids['Pat Bea']}"]
    assert [p.id for p in Patient.where(struct={}).perform_resources_iter(dr_server)] == [ids["Pat Bea"]]
