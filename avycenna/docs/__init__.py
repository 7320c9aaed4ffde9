"""Swagger UI and ReDoc assets served by the server itself (works with no internet).

The JavaScript and CSS come from the installed `drf-spectacular-sidecar` wheel,
which packages Swagger UI and ReDoc as plain static files; nothing is fetched
from a CDN and nothing third-party is copied into this repository.
"""
import os

import drf_spectacular_sidecar
from flask import Blueprint, send_from_directory

SIDECAR = os.path.join(os.path.dirname(drf_spectacular_sidecar.__file__),
                       "static", "drf_spectacular_sidecar")
SWAGGER_DIR = os.path.join(SIDECAR, "swagger-ui-dist")
REDOC_DIR = os.path.join(SIDECAR, "redoc", "bundles")

blp = Blueprint("docs_assets", __name__, url_prefix="/docs/assets",
                template_folder="templates", static_folder="static",
                static_url_path="/own")


@blp.route("/swagger-ui/<path:filename>")
def swagger_ui(filename):
    return send_from_directory(SWAGGER_DIR, filename, max_age=86400)


@blp.route("/redoc/<path:filename>")
def redoc(filename):
    return send_from_directory(REDOC_DIR, filename, max_age=86400)


# The docs pages may only load from this server: ReDoc's bundle, for one, links a logo
# on a CDN, which this policy stops before any request leaves the clinic's network.
DOCS_CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:", "font-src 'self' data:", "worker-src 'self' blob:",
    "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'",
])
DOC_PAGES = ("/docs", "/redoc")


def add_docs_policy(response, request, g):
    if request.path in DOC_PAGES:
        response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


def init_app(app):
    app.register_blueprint(blp)
