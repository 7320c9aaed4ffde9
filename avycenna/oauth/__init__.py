"""The OAuth 2.1 authorization server: a person connects an assistant to their account by signing
in and approving it, and the assistant calls `/mcp` with the token it gets.

authlib does the protocol; these modules give it this app's rows and rules, lowest first:
`common` (prefixes, resources, scopes, the 401 challenge), `rows` (authlib's views of the
tables), `flows` (authorization code + PKCE, refresh rotation, revocation), `backend` (SMART
Backend Services), `metadata` (RFC 8414, RFC 9728, SMART configuration), `registration` (RFC
7591), `authorization` (the server), and `service`: what the rest of the app calls (approvals,
connected apps, resolving a bearer token, housekeeping). `views.py` holds the JSON endpoints;
the consent page and connected apps are pages (`avycenna/web/oauth_pages.py`), and
`avycenna/actor.py` resolves access tokens through `service`.
"""


def init_app(app):
    from avycenna.oauth import authorization
    from avycenna.oauth.views import bp, smart

    authorization.init_app(app)
    app.register_blueprint(bp)
    app.register_blueprint(smart)
