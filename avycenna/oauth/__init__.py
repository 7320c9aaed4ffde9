"""The OAuth 2.1 authorization server: a person connects an assistant to their account by signing
in and approving it, and the assistant calls `/mcp` with the token it gets.

`service.py` is the server (authlib's, with this app's rows and rules); `views.py` its JSON
endpoints and metadata; the consent page and the account's connected apps are pages
(`avycenna/web/oauth_pages.py`); `avycenna/actor.py` resolves its access tokens.
"""


def init_app(app):
    from avycenna.oauth import service
    from avycenna.oauth.views import bp, smart

    service.init_app(app)
    app.register_blueprint(bp)
    app.register_blueprint(smart)
