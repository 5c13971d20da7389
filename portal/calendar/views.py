"""The working-day calendar (工作日历): every role reads it; the admin enters a year's arrangement."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import require
from ..database import utcnow
from ..errors import ValidationFailed
from ..extensions import db
from ..models.accounts import Role
from ..services import workcalendar
from ..web import request_info, show_error
from ..workdays import CHINA, MAX_TEXT, periods
from .forms import RevertForm, YearForm

bp = Blueprint("calendar", __name__, url_prefix="/calendar", template_folder="templates")


@bp.app_context_processor
def _calendar_warning():
    """The admin and the bureau are told, on every page, of a year whose arrangement is missing."""
    if not current_user.is_authenticated or request.endpoint == "static":
        return {"calendar_missing_years": []}
    return {"calendar_missing_years": workcalendar.warnings_for(db.session, current_user)}


@bp.route("/")
@require(*Role)
def index():
    today = utcnow().astimezone(CHINA).date()
    return render_template("calendar/index.html", years=workcalendar.list_years(db.session, today),
                           missing=workcalendar.missing_years(db.session, today), today=today,
                           can_edit=current_user.role in workcalendar.EDITORS)


@bp.route("/<int:year>")
@require(*Role)
def year(year):
    view = workcalendar.get_year(db.session, year)
    form = RevertForm(formdata=None, version=view.entered.version if view.entered else "")
    return render_template("calendar/year.html", view=view, form=form,
                           periods=periods(view.arrangement) if view.arrangement else [],
                           can_edit=current_user.role in workcalendar.EDITORS)


@bp.route("/<int:year>/edit", methods=["GET", "POST"])
@require(*workcalendar.EDITORS)
def edit(year):
    view = workcalendar.get_year(db.session, year)
    form = YearForm()
    status = 200
    if request.method == "GET":
        form.text.data = workcalendar.text_of(view)
        form.reference.data = view.entered.reference if view.entered else ""
        form.version.data = view.entered.version if view.entered else ""
    elif form.validate_on_submit() and _take_import(form):
        try:
            workcalendar.save_year(db.session, request_info(), year, form.text.data, reference=form.reference.data,
                                   version=form.base_version())
        except workcalendar.ArrangementInvalid as exc:
            db.session.rollback()
            form.text.errors = list(form.text.errors) + exc.lines
        except workcalendar.StaleCalendar as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
            view = workcalendar.get_year(db.session, year)
            form.version.data = view.entered.version if view.entered else ""
            status = 409
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("The arrangement of %(year)s was saved; working days are counted by it from now on.", year=year),
                  "success")
            return redirect(url_for("calendar.year", year=year))
    elif request.method == "POST":
        if len(form.text.data or "") > MAX_TEXT:  # refused for its size: not echoed back into the page
            form.text.data = ""
    return render_template("calendar/edit.html", view=view, form=form), status


def _take_import(form):
    """Put an uploaded file's text into the form; False (with the error shown) when it is unreadable."""
    try:
        text = form.imported_text()
    except (ValueError, UnicodeDecodeError):
        form.document.errors = [_("The file is not a UTF-8 text file of at most 10,000 characters.")]
        return False
    if text is not None:
        form.text.data = text
    return True


@bp.route("/<int:year>/revert", methods=["POST"])
@require(*workcalendar.EDITORS)
def revert(year):
    form = RevertForm()
    if form.validate_on_submit():
        try:
            workcalendar.revert_year(db.session, request_info(), year, version=int(form.version.data or 0))
        except (ValidationFailed, workcalendar.StaleCalendar) as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            flash(_("The entered arrangement of %(year)s was removed.", year=year), "success")
    return redirect(url_for("calendar.year", year=year))
