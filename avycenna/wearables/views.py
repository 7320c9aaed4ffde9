"""/api/v1/wearables/types and /api/v1/patients/{id}/wearables[/summary]."""
from datetime import timedelta

from flask import current_app, request
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna import jsonbody
from avycenna.audit.service import grant_details, record
from avycenna.actor import auth_required
from avycenna.clock import iso_to_ms, utcnow
from avycenna.errors import fail, not_found, validation_error
from avycenna.access import require_patient_access
from avycenna.pagination import cursor_position, paginate
from avycenna.schemas import whole_list
from avycenna.wearables import service, sources
from avycenna.wearables.models import WearableSample
from avycenna.wearables.schemas import (IngestResultSchema, IngestSchema, NamedSourceSchema, SampleQueryArgs,
                                        StoredSamplePageSchema, SourceListSchema, SourceOrderSchema, SummaryArgs, SummarySchema,
                                        TypeListSchema)
from avycenna.wearables.types import TYPES, describe
from avycenna.wearables.validate import MAX_SAMPLES, SampleError, TooMany, parse_body

blp = Blueprint("wearables", __name__, url_prefix="/api/v1",
                description="Wearable samples: ingestion by the patient's account, reads under a grant.")

DEFAULT_RANGE = timedelta(days=30)


def read_ingest_body():
    """(source, rows) from this request: bigger body limit, fast validation, one error path."""
    request.max_content_length = current_app.config["WEARABLES_MAX_CONTENT_LENGTH"]  # before the body is read
    body = jsonbody.request_body()
    try:
        return parse_body(body)
    except TooMany:
        fail(413, f"Too many samples: at most {MAX_SAMPLES} a request.")
    except SampleError as error:
        validation_error(["body", *error.loc], error.msg, error.type)


def time_range(args):
    """(start_ms, end_ms) from ?start=&end=, or None for a window that holds no time (`end` at or
    before `start`): every pair the document allows is a question with an answer, maybe empty.
    A long window costs no more per page (keyset pages; summaries read the hourly rollup)."""
    end = args["end"] or utcnow()
    start = args["start"] or end - DEFAULT_RANGE
    if end <= start:
        return None
    return iso_to_ms(start), iso_to_ms(end)


@blp.route("/wearables/types")
class Types(MethodView):
    @blp.response(200, TypeListSchema)
    def get(self):
        """Sample types, each with its canonical unit and the units converted from (no sign-in needed)."""
        return whole_list(describe())


@blp.route("/patients/<string:patient_id>/wearables")
class PatientWearables(MethodView):
    @auth_required()
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": IngestSchema}}})
    @blp.response(200, IngestResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, patient_id):
        """Add a batch of samples (all or nothing; re-sent samples are skipped)."""
        patient = require_patient_access(patient_id, "wearables", owner_only=True)
        source, rows = read_ingest_body()
        return service.ingest(patient, source, rows)

    @auth_required()
    @blp.arguments(SampleQueryArgs, location="query")
    @blp.response(200, StoredSamplePageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, patient_id):
        """Samples of one type in a time range, oldest first (owner, or a `wearables` grant)."""
        patient = require_patient_access(patient_id, "wearables")
        window = time_range(args)
        if window is None:
            return {"data": [], "next_cursor": None}
        start_ms, end_ms = window
        order = (WearableSample.start_ms, WearableSample.id)
        position = cursor_position(args["cursor"], order)
        if position:  # the range starts at the cursor: a deep page scans no more than the first
            start_ms = max(start_ms, position[0])
        page = paginate(service.samples_query(patient, args["type"], start_ms, end_ms),
                        order, args["limit"], args["cursor"])
        record("wearables.read", patient_id=patient.id, target_type="wearables", type=args["type"],
               returned=len(page["data"]), **grant_details())
        return {"data": [service.present_sample(r) for r in page["data"]], "next_cursor": page["next_cursor"]}


@blp.route("/patients/<string:patient_id>/wearables/summary")
class Summary(MethodView):
    @auth_required()
    @blp.arguments(SummaryArgs, location="query")
    @blp.response(200, SummarySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, patient_id):
        """count / min / max / mean per hour or UTC day (owner, or a `wearables` grant)."""
        patient = require_patient_access(patient_id, "wearables")
        window = time_range(args)
        data = service.read_summary(patient, args["type"], args["bucket"], *window) if window else []
        unit = "min" if args["type"] == "sleep" else TYPES[args["type"]].unit
        return {"type": args["type"], "unit": unit, "bucket": args["bucket"], "data": data}


def ranked(patient, names):
    ids = sources.source_ids(patient)
    return whole_list([{"id": ids.get(name), "source": name, "rank": i + 1} for i, name in enumerate(names)])


@blp.route("/patients/<string:patient_id>/wearables/sources")
class Sources(MethodView):
    @auth_required()
    @blp.response(200, SourceListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, patient_id):
        """The patient's sources in the order summaries prefer them (the owner)."""
        patient = require_patient_access(patient_id, "wearables", owner_only=True)
        return ranked(patient, sources.known_sources(patient))

    @auth_required()
    @blp.arguments(SourceOrderSchema)
    @blp.response(200, SourceListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def put(self, body, patient_id):
        """Set which sources count first when they overlap (the owner); raw samples are unchanged."""
        patient = require_patient_access(patient_id, "wearables", owner_only=True)
        names = sources.set_order(patient, body["priority"])
        record("wearables.sources.update", patient_id=patient.id, target_type="wearables")
        return ranked(patient, names)


@blp.route("/patients/<string:patient_id>/wearables/sources/<string:source_id>")
class Source(MethodView):
    @auth_required()
    @blp.response(200, NamedSourceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, patient_id, source_id):
        """The name behind a `source_id` (as `wearables.ingested` events give it): the owner, or a
        `wearables` grant; audited."""
        patient = require_patient_access(patient_id, "wearables")
        source = sources.find_source(patient, source_id)
        if source is None:
            not_found("Source not found.")
        record("wearables.source.read", patient_id=patient.id, target_type="wearable_source",
               target_id=source.id, **grant_details())
        return source
