"""The projects' blueprint and what its three view modules share: views.py (the flow of 第七条),
money.py (第十二条, the files) and evaluation.py (第十七条)."""
from flask import Blueprint, current_app

from ..models.accounts import Role
from ..services import projects as svc

bp = Blueprint("projects", __name__, url_prefix="/projects", template_folder="templates")
VIEWERS = svc.VIEWERS
READERS = (Role.BUREAU, Role.AUDITOR)  # the pipeline and the annual plan


def _settings():
    return current_app.config
