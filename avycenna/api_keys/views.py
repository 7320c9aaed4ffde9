"""/api/v1/api-keys: personal API keys."""
from flask.views import MethodView
from avycenna.blueprint import Blueprint

from avycenna.api_keys.models import ApiKey
from avycenna.api_keys.schemas import CreatedKeySchema, KeySchema, NewKeySchema
from avycenna.api_keys.service import delete_key, issue_key, list_keys
from avycenna.actor import auth_required, current_user
from avycenna.pagination import paginate
from avycenna.schemas import PageArgs, page_schema

blp = Blueprint("api_keys", __name__, url_prefix="/api/v1/api-keys",
                description="Personal API keys (`avk_…`) for scripts and agents.")


@blp.route("")
class Keys(MethodView):
    @auth_required()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(KeySchema, "KeyPage"))
    def get(self, args):
        """List your API keys, oldest first (never the secret part)."""
        return paginate(list_keys(current_user()), (ApiKey.created_at, ApiKey.id),
                        args["limit"], args["cursor"])

    @auth_required()
    @blp.arguments(NewKeySchema)
    @blp.response(201, CreatedKeySchema)
    def post(self, body):
        """Create an API key; the full key is in this response only."""
        row, key = issue_key(current_user(), body["name"])
        row.key = key
        return row


@blp.route("/<string:key_id>")
class Key(MethodView):
    @auth_required()
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, key_id):
        """Delete (revoke) an API key at once."""
        delete_key(current_user(), key_id)
