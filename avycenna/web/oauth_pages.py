"""The consent page of the authorization server (`/oauth/authorize`) and the account's connected apps.

The authorization endpoint is a page like every other: the person signs in with the pages'
own sign-in (then comes back here), and the form carries the CSRF token. authlib validates
the request (client, redirect URI, PKCE S256, scope) before anything is shown; an error that
may go back to the client (its redirect URI is registered) goes back there as RFC 6749 says,
any other is an error page here. "Allow" makes a connection, which the person sees and revokes
on `/account/apps`; a revoke ends its tokens on their next request.
"""
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import InvalidScopeError, OAuth2Error
from flask import flash, g, redirect, render_template, request, url_for

from avycenna.oauth import authorization, common, flows, service as oauth
from avycenna.web.blueprint import bp
from avycenna.web.errors import error_page
from avycenna.web.patients import own_patients
from avycenna.web.security import CONTENT_SECURITY_POLICY
from avycenna.web.sessions import current_browser_session, page_user, signin_required


def _origin(uri):
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _refused(server, grant_request, error):
    """An error for the client at its redirect URI when that is known to be its; else a page."""
    if error.redirect_uri:
        return server.handle_error_response(grant_request, error)
    return error_page(400, f"This app's request cannot be approved: {error.description or error.error}.")


def _granted_scope(grant, resource):
    """The scopes asked for, each one a person may grant here for `resource` (`invalid_scope`
    otherwise), that this client registered for."""
    scope = flows.person_scope(grant.request.payload.scope, resource)
    if grant.client.row.scope:
        scope = grant.client.get_allowed_scope(scope)
    if not scope:
        raise InvalidScopeError(description="This app did not register for these scopes.")
    return scope


def _chosen_patient(user, patients):
    """The patient picked on the form (one of the account's), or None."""
    chosen = request.form.get("patient_id", "")
    return next((p for p in patients if str(p.id) == chosen), None)


def _own_record(patients):
    """The person's own patient record as a FHIR reference (OpenID's `fhirUser`), or None."""
    own = next((p for p in patients if p.relationship == "self"), None)
    return f"Patient/{own.id}" if own is not None else None


@bp.route("/oauth/authorize", methods=["GET", "POST"])
@signin_required()
def oauth_authorize():
    """Authorization code with PKCE: the consent page (GET), the person's decision (POST)."""
    server, user = authorization.server(), page_user()
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _refused(server, server.create_oauth2_request(None), error)
    try:
        resource = flows.authorize_resource(grant.request)
        scope = _granted_scope(grant, resource)
    except OAuth2Error as error:
        error.redirect_uri, error.state = grant.redirect_uri, grant.request.payload.state
        return _refused(server, grant.request, error)
    patients, pick = own_patients(user), flows.needs_patient(scope)
    error = None
    if request.method == "POST":
        if request.form.get("decision") != "allow":
            return server.create_authorization_response(grant_user=None, grant=grant)
        patient = _chosen_patient(user, patients) if pick else None
        if not pick or patient is not None:
            oauth.approve(user, grant.client.client_id, scope, resource, str(patient.id) if patient else None,
                          fhir_user=_own_record(patients))
            g.signed_in_at = current_browser_session().created_at  # OpenID Connect's auth_time
            return server.create_authorization_response(grant_user=user, grant=grant)
        error = "Choose the patient this app is about."
    page = render_template("web/oauth_consent.html", client=grant.client.row, scopes=oauth.scope_words(scope),
                           patients=patients, pick=pick, error=error, user=user, resource=resource,
                           redirect_host=urlsplit(grant.redirect_uri).netloc, expires_at=common.connection_expiry(),
                           document_host=urlsplit(grant.client.row.document_url or "").netloc)
    # Chromium applies form-action to the redirect that follows the form: allow the client's.
    policy = CONTENT_SECURITY_POLICY.replace("form-action 'self'",
                                             f"form-action 'self' {_origin(grant.redirect_uri)}")
    return page, 422 if error else 200, {"Content-Security-Policy": policy}


@bp.get("/account/apps")
@signin_required()
def connected_apps():
    return render_template("web/apps.html", connections=oauth.connected_apps(page_user()))


@bp.post("/account/apps/<connection_id>/revoke")
@signin_required()
def revoke_app(connection_id):
    if oauth.revoke_for_user(page_user(), connection_id):
        flash("The app is disconnected; its tokens stop working at once.", "ok")
    else:
        flash("That connection was not found (it may have ended already).", "error")
    return redirect(url_for("web.connected_apps"))
