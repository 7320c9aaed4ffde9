"""/api/v1/checkout: complete an agent's encounter from a signed-in account."""
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.actor import auth_required, current_user
from avycenna.checkout.schemas import CheckoutResultSchema, CheckoutSchema
from avycenna.checkout.service import checkout

blp = Blueprint("checkout", __name__, url_prefix="/api/v1/checkout",
                description="Bind your patient to an agent's encounter and submit it.")


@blp.route("")
class Checkout(MethodView):
    @auth_required()
    @blp.arguments(CheckoutSchema)
    @blp.response(200, CheckoutResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body):
        """Claim the encounter, bind your patient, and submit — or learn what is still pending."""
        return checkout(current_user(), body["encounter_token"], body["patient_id"])
