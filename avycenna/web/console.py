"""The clinician console: the encounter queue, one encounter, their patients' charts."""
from flask import render_template

from avycenna.web import bp
from avycenna.web.sessions import page_user, signin_required


@bp.get("/console")
@signin_required("clinician", "admin")
def console():
    return render_template("web/console.html", user=page_user())
