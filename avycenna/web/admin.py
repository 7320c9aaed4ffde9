"""Admin pages: users, ID-verification requests, invoices to mark paid."""
from flask import render_template

from avycenna.web import bp
from avycenna.web.sessions import signin_required


@bp.get("/admin")
@signin_required("admin")
def admin_home():
    return render_template("web/admin.html")
