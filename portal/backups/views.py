"""备份与恢复 pages (第十九条): thin views over portal/services/backups.py."""
from flask import Blueprint

from .labels import template_labels

bp = Blueprint("backups", __name__, url_prefix="/backups", template_folder="templates")


@bp.app_context_processor
def _labels():
    return template_labels()
