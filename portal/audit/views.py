"""The audit log (操作日志), newest first, filtered and paged."""
from flask import Blueprint, render_template, request
from flask_login import current_user

from ..access import require
from ..extensions import db
from ..models import Role
from ..services import audit
from ..web import page_arg, per_page

bp = Blueprint("audit", __name__, url_prefix="/audit", template_folder="templates")


@bp.route("/")
@require(Role.BUREAU, Role.AUDITOR, Role.ADMIN, Role.DEPARTMENT)
def index():
    action = request.args.get("action", "").strip()
    actor = request.args.get("actor", "").strip()
    page = audit.list_events(db.session, current_user, action=action, actor=actor,
                             page=page_arg(), per_page=per_page())
    return render_template("audit/index.html", page=page, action=action, actor=actor)
