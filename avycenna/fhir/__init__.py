"""FHIR R4 at /fhir/R4: the same data, credentials, access rule and audit as /api/v1, in FHIR.

Read-only: CapabilityStatement, Patient read, Observation search (raw or rolled up),
Patient/$everything and the Bulk Data Patient/$export. Errors are OperationOutcomes.
"""
from avycenna.errors import register_error_format

def init_app(app):
    from avycenna.fhir.responses import error_response
    from avycenna.fhir import export_views  # noqa: F401 (adds the $export routes to bp)
    from avycenna.fhir.views import bp

    app.register_blueprint(bp)
    register_error_format("/fhir/", error_response)  # every error under /fhir, a route of it or not
