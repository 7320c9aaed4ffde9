"""Every path that returns a patient's data ends with the access it was opened under.

Nobody keeps a list of those paths here: the test finds them. It walks Flask's URL map (every
GET route: REST, pages, FHIR, export status and files), the FHIR CapabilityStatement (each
resource's read, search and operations) and the MCP server's tool and resource lists (through
the official `mcp` client on a live server), fills every argument from one world (a holder, their
patient, a clinician with a grant, a finished bulk export) and reads each as the clinician. A
path whose answer carries the patient's data — their name or one of their wearable values, or,
for a route about a patient or an export, simply a 2xx — is a patient-data path. Then access
narrows (the grant revoked or expired, the clinician demoted or disabled, the patient archived)
and each of those paths is read again: none may still answer with the data.

A new route, tool or FHIR interaction that returns a patient's data without asking the access
rule in `avycenna/access.py` fails this test with nobody adding it anywhere; a route whose
argument this test cannot fill fails too, asking to be taught what the argument names.
"""
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from avycenna.db import database
from tests.agent_helpers import CONSENT, QUERY, ask, subscribe
from tests.mcp_client import session
from tests.test_grant_scopes import grant
from tests.test_web_security import sign_in

PASSWORD = "correct horse battery"
NAME = "Ximena Revocable-Quist"
HEART_RATE, WEIGHT = 173.125, 64.875  # values nothing else on the server would print
QUESTION = "Vexillar-Quorbit: " + QUERY  # the patient's own words, in an encounter
MARKERS = (NAME, "173.125", "64.875", "Vexillar-Quorbit")
ASYNC = {"Prefer": "respond-async"}

# Arguments that name a patient or something made of their data: a 2xx for the granted clinician
# makes such a route a patient-data path even when its answer shows no marker (export status).
PATIENT_ARGS = {"patient_id", "export_id", "observation_id", "encounter_id", "communication_id"}
# Arguments that never name anything of a patient: filled with a value that finds nothing.
UNRELATED_ARGS = {"filename", "token", "invoice_id", "endpoint_id", "delivery_id", "key_id", "user_id",
                  "decision", "action"}
# What each anchor kind of path is: the walk must find every kind, or it proves nothing.
KINDS = {"rest": "/api/v1/", "fhir": "/fhir/R4/", "export file": "/fhir/R4/$export-file/",
         "export status": "/fhir/R4/$export-status/", "page": "/console/", "mcp": "mcp:",
         "FHIR Observation read": "/fhir/R4/Observation/", "FHIR Encounter read": "/fhir/R4/Encounter/",
         "FHIR Communication read": "/fhir/R4/Communication/"}
MINIMUM = 12
KICK_OFFS = ("fhir.kick_off", "fhir.group_kick_off", "fhir.system_kick_off")


@pytest.fixture
def app_config(app_config):
    """Budgets wide enough for the walk: a 429 would pass for a refusal (and is failed below)."""
    app_config.update(RATELIMIT_JWT="100000/minute", RATELIMIT_WEB="100000/minute",
                      RATELIMIT_ANONYMOUS="100000/minute")
    return app_config


def carries(text):
    return any(marker in text for marker in MARKERS)


class World:
    """One holder's patient, shared with one clinician (every scope), and a finished export."""

    def __init__(self, app, client, make_user, token_for):
        self.app, self.client = app, client
        self.holder, self.admin = make_user("member"), make_user("admin")
        self.dr = make_user("clinician", password=PASSWORD)
        self.holder_h, self.dr_h, self.admin_h = token_for(self.holder), token_for(self.dr), token_for(self.admin)
        r = client.post("/api/v1/patients", headers=self.holder_h, json={
            "name": NAME, "date_of_birth": "1980-01-02", "relationship": "self", "sex_at_birth": "female"})
        self.pid = r.get_json()["id"]
        at = (datetime.now(timezone.utc) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        start = at.isoformat().replace("+00:00", "Z")
        samples = [{"type": "heart_rate", "start": start, "value": HEART_RATE, "unit": "count/min"},
                   {"type": "body_weight", "start": start, "value": WEIGHT, "unit": "kg"}]
        r = client.post(f"/api/v1/patients/{self.pid}/wearables", headers=self.holder_h,
                        json={"source": "watch", "samples": samples})
        assert r.status_code == 200, r.get_json()
        self.encounter_id = self.answered_encounter(make_user, token_for)
        self.gid = grant(client, self.holder_h, self.dr_h, self.holder, self.pid,
                         ["profile", "wearables", "encounters"])
        self.export_id = self.finished_export()
        self.fhir_ids = self.fhir_ids_of_everything()
        self.web = app.test_client()  # the clinician's browser: a session cookie
        sign_in(self.web, self.dr.email, PASSWORD)
        self.window = {"start": (at - timedelta(days=2)).isoformat(), "end": (at + timedelta(days=2)).isoformat()}

    def answered_encounter(self, make_user, token_for):
        """The holder's question about the patient, answered and closed by another clinician (so
        the one under test reads it through the grant alone)."""
        client, pid, h = self.client, self.pid, self.holder_h
        assert client.post(f"/api/v1/patients/{pid}/consent", json=CONSENT, headers=h).status_code == 200
        assert client.post(f"/api/v1/patients/{pid}/id-verification", headers=h, json={
            "document_type": "passport", "document_number": "P1234567"}).status_code == 201
        assert client.post(f"/api/v1/patients/{pid}/id-verification/approve", json={},
                           headers=self.admin_h).status_code == 200
        subscribe(client, h, self.admin_h)
        r = ask(client, h, query=QUESTION, patient_id=pid)
        assert r.status_code in (200, 201) and r.get_json()["status"] == "submitted", r.get_json()
        encounter_id, other = r.get_json()["encounter_id"], token_for(make_user("clinician"))
        for step, body in (("take", None), ("answer", {"body": "Rest."}), ("close", {"summary": "Cough."})):
            r = client.post(f"/api/v1/encounters/{encounter_id}/{step}", json=body, headers=other)
            assert r.status_code == 200, r.get_json()
        return encounter_id

    def finished_export(self):
        from avycenna.fhir.export import run_export

        r = self.client.get("/fhir/R4/Patient/$export", headers={**self.dr_h, **ASYNC})
        assert r.status_code == 202
        export_id = r.headers["Content-Location"].rsplit("/", 1)[1]
        with self.app.app_context(), database.obj.connection_context():
            run_export.call_local(export_id)
        return export_id

    def fhir_ids_of_everything(self):
        """{resource type: [ids]} of what $everything emits (the holder's view), every one a
        reference another resource or a search may give: each must be read as the rule says."""
        found = {}
        url = f"/fhir/R4/Patient/{self.pid}/$everything"
        for entry in self.client.get(url, headers=self.holder_h).get_json()["entry"]:
            found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"]["id"])
        r = self.client.get(f"/fhir/R4/Observation?patient={self.pid}&rollup=hour", headers=self.holder_h)
        found["Observation"] += [entry["resource"]["id"] for entry in r.get_json()["entry"]]
        return found

    def fill(self, name):
        """The value of a route argument, as the world has it (a list: each is tried)."""
        values = {"patient_id": [self.pid], "export_id": [self.export_id], "grant_id": [self.gid],
                  "encounter_id": [self.encounter_id] + self.fhir_ids["Encounter"],
                  "observation_id": self.fhir_ids["Observation"],
                  "communication_id": self.fhir_ids["Communication"],
                  "group_id": ["grp-" + self.dr.id.replace("_", "-")],
                  "resource_type": ["Patient", "Observation", "Encounter", "Communication"]}
        if name in values:
            return values[name]
        if name in UNRELATED_ARGS or name.endswith("_id"):
            return ["nothing_" + uuid.uuid4().hex[:8]]
        pytest.fail(f"A route takes <{name}>: teach this test what it names (tests/test_access_every_path.py)")

    def queries(self):
        """Query strings tried on every route: none, and the ways a route may name a patient."""
        return [{}, {"patient": self.pid}, {"patient_id": self.pid}, {"type": "heart_rate", **self.window},
                {"type": "body_weight", **self.window}]

    def get(self, path, query):
        """The clinician's GET: their bearer token for the API, their session cookie for pages."""
        with self.web.get(path, query_string=query, headers=self.dr_h) as r:
            assert r.status_code != 429, f"{path} was rate limited: the walk would prove nothing"
            assert r.status_code < 500, f"{path} {query}: {r.status_code}"
            return r.status_code, r.get_data(as_text=True)


def route_paths(app, world):
    """(path, route args) of every GET route of the URL map, its arguments filled in."""
    import itertools

    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in KICK_OFFS:
            continue  # a kick-off starts a new export; the export it made is walked instead
        names = sorted(rule.arguments)
        for combo in itertools.product(*(world.fill(name) for name in names)):
            values = dict(zip(names, combo))
            try:
                path = rule.build(values, append_unknown=False)[1]
            except Exception:
                continue  # a converter refuses the value (any(…)): the value finds nothing anyway
            found.append((path, set(names)))
    return found


def capability_paths(world):
    """The patient-level interactions the CapabilityStatement declares, as paths."""
    statement = world.client.get("/fhir/R4/metadata").get_json()
    paths = []
    for resource in statement["rest"][0]["resource"]:
        kind = resource["type"]
        codes = {i["code"] for i in resource.get("interaction", [])}
        if "read" in codes:
            paths.append((f"/fhir/R4/{kind}/{world.pid}", {"patient_id"} if kind == "Patient" else set()))
        if "search-type" in codes:
            paths.append((f"/fhir/R4/{kind}", set()))
        for operation in resource.get("operation", []):
            if operation["name"] != "export":  # see route_paths
                paths.append((f"/fhir/R4/{kind}/{world.pid}/${operation['name']}", {"patient_id"}))
    assert paths, "the CapabilityStatement declares no patient interaction"
    return paths


def discover_http(app, world):
    """{(path, query as JSON): why} of every HTTP read that returns the patient's data now."""
    found = {}
    for path, args in route_paths(app, world) + capability_paths(world):
        for query in world.queries():
            status, text = world.get(path, query)
            if carries(text):
                found[(path, json.dumps(query, sort_keys=True))] = "marker"
                break  # the first query that shows the data is the one read again
            if 200 <= status < 300 and args & PATIENT_ARGS and not query:
                found[(path, json.dumps(query, sort_keys=True))] = "route argument"
                break
    return found


# MCP -----------------------------------------------------------------------------------------

def _tool_arguments(tool, world):
    """Arguments for a tool from its input schema: the patient and window where it takes them."""
    properties, arguments = tool.input_schema.get("properties", {}), {}
    for name, schema in properties.items():
        if name == "patient_id":
            arguments[name] = world.pid
        elif name == "type":
            arguments[name] = "heart_rate"
        elif name in ("start", "end"):
            arguments[name] = world.window[name]
        elif name in tool.input_schema.get("required", []):
            arguments[name] = world.fill(name)[0]
    return arguments


def mcp_reads(url, world):
    """{name: text} of every read-only MCP tool and every resource, called as the clinician."""
    async def steps(client):
        answers = {}
        for tool in (await client.list_tools()).tools:
            if not (tool.annotations and tool.annotations.read_only_hint):
                continue  # a tool that changes something is not a read (its REST twin is walked)
            result = await client.call_tool(tool.name, _tool_arguments(tool, world))
            answers["mcp:tool:" + tool.name] = " ".join(getattr(c, "text", "") for c in result.content)
        for resource in (await client.list_resources()).resources:
            content = await client.read_resource(resource.uri)
            answers["mcp:resource:" + str(resource.uri)] = " ".join(getattr(c, "text", "") for c in content.contents)
        return answers
    return session(url, steps, headers=world.dr_h)


def mcp_reads_after(url, world):
    """As `mcp_reads`, once access has ended: a credential refused outright (a disabled
    account) is a 401 for the /mcp request itself, so nothing at all is read."""
    import requests

    if requests.post(url + "/mcp", headers=world.dr_h, json={}, timeout=30).status_code == 401:
        return {}
    return mcp_reads(url, world)


# The endings of access -------------------------------------------------------------------------

def revoke(world):
    assert world.client.post(f"/api/v1/grants/{world.gid}/revoke", headers=world.holder_h).status_code == 200


def expire(world):
    """The grant's end date passes: nobody is told; only a check at reading time notices."""
    from avycenna.clock import utcnow
    from avycenna.grants.models import Grant

    with world.app.app_context(), database.obj.connection_context():
        Grant.update(expires_at=utcnow() - timedelta(seconds=1)).where(Grant.id == world.gid).execute()


def demote(world):
    r = world.client.patch(f"/api/v1/admin/users/{world.dr.id}", headers=world.admin_h, json={"role": "member"})
    assert r.status_code == 200


def disable(world):
    r = world.client.patch(f"/api/v1/admin/users/{world.dr.id}", headers=world.admin_h, json={"is_active": False})
    assert r.status_code == 200


def archive(world):
    assert world.client.delete(f"/api/v1/patients/{world.pid}", headers=world.holder_h).status_code == 204


def walk(app, world, narrow, url=None):
    """(patient-data paths found, those that still return the data after `narrow`)."""
    found = discover_http(app, world)
    tools = {name: text for name, text in mcp_reads(url, world).items() if carries(text)} if url else {}
    paths = sorted({path for path, _ in found} | set(tools))

    narrow(world)

    still = []
    for (path, query), why in sorted(found.items()):
        status, text = world.get(path, json.loads(query))
        if carries(text) or (why == "route argument" and 200 <= status < 300):
            still.append(f"{path} {query} → {status}")
    for name, text in (mcp_reads_after(url, world).items() if url else ()):
        if name in tools and carries(text):
            still.append(name)
    return paths, still


@pytest.mark.parametrize("narrow", [revoke, expire, demote, disable, archive], ids=lambda f: f.__name__)
def test_every_path_to_a_patients_data_ends_with_access(app, client, make_user, token_for, live_server, narrow):
    world = World(app, client, make_user, token_for)
    paths, still = walk(app, world, narrow, live_server.url)
    assert len(paths) >= MINIMUM, f"only {len(paths)} patient-data paths found: {paths}"
    for kind, prefix in KINDS.items():
        assert any(p.startswith(prefix) for p in paths), f"no {kind} path found among {paths}"
    assert not still, f"after {narrow.__name__}, these still return the patient's data: {still}"


def test_a_new_route_that_skips_the_rule_is_caught(app, client, make_user, token_for):
    """The walk's own check: a route added without asking the access rule, on no list, fails it."""
    from avycenna.patients.models import Patient

    def leak(patient_id):
        return {"name": Patient.get_by_id(patient_id).name}
    app.add_url_rule("/api/v1/leaky/<patient_id>", "leaky", leak)
    world = World(app, client, make_user, token_for)
    paths, still = walk(app, world, revoke)
    assert f"/api/v1/leaky/{world.pid}" in paths
    assert still == [f"/api/v1/leaky/{world.pid} {{}} → 200"]
