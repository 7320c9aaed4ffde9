"""/api/v1/consents: the current telehealth consent text and its version."""
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.patients.schemas import ConsentTextSchema
from avycenna.patients.service import consent_text

blp = Blueprint("consents", __name__, url_prefix="/api/v1/consents",
                description="Consent texts a patient agrees to (configured by the clinic).")


@blp.route("/telehealth")
class TelehealthConsent(MethodView):
    @blp.response(200, ConsentTextSchema)
    def get(self):
        """The current telehealth consent text and its version (no sign-in needed)."""
        return consent_text()
