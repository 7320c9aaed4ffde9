"""The account dashboard: API keys, patients, grants, encounters, billing, access logs."""
from flask import redirect, render_template, request, session, url_for

from avycenna.api_keys import service as keys
from avycenna.api_keys.models import ApiKey
from avycenna.api_keys.schemas import NewKeySchema
from avycenna.billing.service import current_subscription
from avycenna.encounters.service import list_own
from avycenna.grants.service import incoming
from avycenna.web.blueprint import bp
from avycenna.web.forms import attempt, flash_outcome, submit
from avycenna.web.patients import own_patients
from avycenna.web.sessions import page_user, signin_required


def own_keys(user):
    return list(keys.list_keys(user).order_by(ApiKey.created_at, ApiKey.id))


@bp.get("/account")
@signin_required()
def account():
    user = page_user()
    return render_template("web/account.html", user=user, keys=own_keys(user), patients=own_patients(user),
                           encounters=list_own(user, 5, None)["data"],
                           subscription=current_subscription(user.id),
                           pending_grants=incoming(user, "pending").count())


def render_keys(errors=None, status=200, new_key=None, name=""):
    return render_template("web/keys.html", keys=own_keys(page_user()),
                           errors=errors or {}, new_key=new_key, name=name), status


@bp.get("/account/keys")
@signin_required()
def api_keys():
    return render_keys(new_key=take_new_key(page_user()))


@bp.post("/account/keys")
@signin_required()
def create_api_key():
    """Post/redirect/get: the new key is shown by the GET that follows, once; a reload mints nothing."""
    issued, errors = submit(NewKeySchema(), request.form, lambda data: keys.issue_key(page_user(), data["name"]))
    if errors:
        return render_keys(errors, 422, name=request.form.get("name", ""))
    session[NEW_KEY] = {"id": issued[0].id, "key": issued[1]}
    return redirect(url_for("web.api_keys"), 303)


NEW_KEY = "new_api_key"


def take_new_key(user):
    """The key minted just before this page, removed from the session as it is shown."""
    fresh = session.pop(NEW_KEY, None)
    row = ApiKey.get_or_none((ApiKey.id == fresh["id"]) & (ApiKey.user == user.id)) if fresh else None
    return {"row": row, "key": fresh["key"]} if row is not None else None


@bp.post("/account/keys/<key_id>/delete")
@signin_required()
def delete_api_key(key_id):
    _, errors = attempt(keys.delete_key, page_user(), key_id)
    flash_outcome(errors, "The key is deleted; it stops working at once.")
    return redirect(url_for("web.api_keys"))
