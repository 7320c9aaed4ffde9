"""/api/v1/grants: clinicians ask account holders for access; holders accept, decline, revoke."""
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.actor import auth_required, current_user
from avycenna.grants import service
from avycenna.grants.models import Grant
from avycenna.grants.present import present as present_grant, present_all
from avycenna.grants.schemas import AcceptSchema, GrantListArgs, GrantPageSchema, GrantSchema, NewGrantSchema
from avycenna.pagination import paginate

blp = Blueprint("grants", __name__, url_prefix="/api/v1/grants",
                description="Clinicians' access to patients' data, given by the account holder.")


def present(grant):
    """The response form of a grant for the current user."""
    return present_grant(grant, current_user())


def page(query, args):
    result = paginate(query, (Grant.created_at, Grant.id), args["limit"], args["cursor"], descending=True)
    return {"data": present_all(result["data"], current_user()), "next_cursor": result["next_cursor"]}


@blp.route("")
class Grants(MethodView):
    @auth_required("clinician")
    @blp.arguments(NewGrantSchema)
    @blp.response(201, GrantSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body):
        """Ask an account holder (by e-mail) for access; they are notified by mail."""
        return present(service.request_grant(current_user(), **body))


@blp.route("/outgoing")
class Outgoing(MethodView):
    @auth_required()
    @blp.arguments(GrantListArgs, location="query")
    @blp.response(200, GrantPageSchema)
    def get(self, args):
        """Your requests and grants; the active ones are your patients (members have none)."""
        return page(service.outgoing(current_user(), args["status"]), args)


@blp.route("/incoming")
class Incoming(MethodView):
    @auth_required()
    @blp.arguments(GrantListArgs, location="query")
    @blp.response(200, GrantPageSchema)
    def get(self, args):
        """Requests for access sent to your e-mail, and what you answered."""
        return page(service.incoming(current_user(), args["status"]), args)


@blp.route("/<string:grant_id>")
class GrantItem(MethodView):
    @auth_required()
    @blp.response(200, GrantSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, grant_id):
        """One grant, for its clinician or its holder."""
        return present(service.visible_grant(grant_id, current_user()))


@blp.route("/<string:grant_id>/accept")
class Accept(MethodView):
    @auth_required()
    @blp.arguments(AcceptSchema)
    @blp.response(200, GrantSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, grant_id):
        """Accept a pending request for one of your patients."""
        return present(service.accept_grant(grant_id, current_user(), body["patient_id"]))


@blp.route("/<string:grant_id>/decline")
class Decline(MethodView):
    @auth_required()
    @blp.response(200, GrantSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, grant_id):
        """Decline a pending request."""
        return present(service.decline_grant(grant_id, current_user()))


@blp.route("/<string:grant_id>/revoke")
class Revoke(MethodView):
    @auth_required()
    @blp.response(200, GrantSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, grant_id):
        """End a pending or active grant (either side); access stops at once."""
        return present(service.revoke_grant(grant_id, current_user()))
