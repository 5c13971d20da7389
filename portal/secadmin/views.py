"""The security administrator's pages (安全管理员, 三权分立): the security policy in effect and the keys
in use. Role assignments and unlocking are on the user pages (users.role)."""
from flask import Blueprint, current_app, render_template

from ..access import require
from ..extensions import db
from ..models.accounts import Role
from ..services import security_policy

bp = Blueprint("secadmin", __name__, url_prefix="/security", template_folder="templates")


@bp.route("/policy")
@require(Role.SECURITY)
def policy():
    return render_template("secadmin/policy.html", items=security_policy.effective_policy(current_app.config))


@bp.route("/keys")
@require(Role.SECURITY)
def keys():
    return render_template("secadmin/keys.html", items=security_policy.key_inventory(db.session, current_app.config))
