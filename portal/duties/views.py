"""The platform's duties (issue 20): emergency plans and drills (第二十三条), rectification notices
(第二十条), key changes (第二十一条). Thin views over services.drills and services.rectifications."""
import os

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import require
from ..audit_hooks import mark_download
from ..errors import ValidationFailed
from ..extensions import db
from ..models.accounts import BUSINESS_VIEWERS, Role
from ..models.backups import RESTORE_MODE_LABELS, RESTORE_MODES_BY_KIND, RestoreMode
from ..models.duties import (DRILL_RESULT_LABELS, DRILL_STATE_LABELS, FOLLOW_UP_STATE_LABELS, KEY_CHANGE_KIND_LABELS,
                             KEY_CHANGE_STATE_LABELS, PLAN_SCOPE_LABELS, PLAN_VERSION_STATE_LABELS,
                             RECTIFICATION_STATE_LABELS, STEP_OUTCOME_LABELS, DrillState, KeyChangeState,
                             PlanVersionState, RectificationState)
from ..services import drills, rectifications as rect
from ..services.departments import department_choices
from ..services.duties_common import today
from ..web import flash_outcome, page_arg, per_page, request_info, show_error
from .forms import (AnswerForm, DrillForm, FinishForm, FollowUpForm, KeyChangeForm, NoteForm, PlanForm, RestoreForm,
                    RectificationForm, StartForm, StepForm, VersionForm, _lines)

bp = Blueprint("duties", __name__, url_prefix="/duties", template_folder="templates")
READERS = BUSINESS_VIEWERS  # every role but the security administrator (三权分立)
OWNERS = (Role.DEPARTMENT, Role.VENDOR)
WRITERS = (Role.DEPARTMENT, Role.VENDOR, Role.BUREAU)
CHANGE_READERS = (Role.BUREAU, Role.VENDOR, Role.AUDITOR, Role.ADMIN)
# a drill restores to a new copy unless someone chooses to overwrite (in place, rebuild) on purpose
SAFE_FIRST = (RestoreMode.NEW_VOLUME, RestoreMode.NEW_SERVER, RestoreMode.IN_PLACE, RestoreMode.SERVER_REBUILD)
# the tab each page belongs to
TABS = {"plan": "duties.index", "new_plan": "duties.index", "edit_version": "duties.index",
        "drill": "duties.drill_calendar", "new_drill": "duties.drill_calendar",
        "rectification": "duties.rectifications", "new_rectification": "duties.rectifications",
        "key_change": "duties.key_changes", "new_key_change": "duties.key_changes"}


@bp.context_processor
def _labels():
    return {"PLAN_SCOPE_LABELS": PLAN_SCOPE_LABELS, "PLAN_VERSION_STATE_LABELS": PLAN_VERSION_STATE_LABELS,
            "DRILL_STATE_LABELS": DRILL_STATE_LABELS, "DRILL_RESULT_LABELS": DRILL_RESULT_LABELS,
            "STEP_OUTCOME_LABELS": STEP_OUTCOME_LABELS, "FOLLOW_UP_STATE_LABELS": FOLLOW_UP_STATE_LABELS,
            "RECTIFICATION_STATE_LABELS": RECTIFICATION_STATE_LABELS,
            "KEY_CHANGE_KIND_LABELS": KEY_CHANGE_KIND_LABELS, "KEY_CHANGE_STATE_LABELS": KEY_CHANGE_STATE_LABELS,
            "can_see_key_changes": current_user.is_authenticated and current_user.role in CHANGE_READERS,
            "active_tab": TABS.get((request.endpoint or "").rsplit(".", 1)[-1], request.endpoint)}


def upload_dir():
    return os.path.join(current_app.instance_path, "uploads", "duties")


def _settings():
    return current_app.config


def _document(path, row, kind, department_id):
    mark_download(kind, row.id, department_id)
    return send_file(path, mimetype=row.document_type, as_attachment=True, download_name=row.document_name)


def _saved(form, call, done, target):
    """A form that creates something: call() when it validates; a redirect to target(the new object)
    with done, or None (the form again, with the refusal under its field)."""
    if not form.validate_on_submit():
        return None
    try:
        created = call()
    except ValidationFailed as exc:
        db.session.rollback()
        show_error(form, exc)
        return None
    flash(done, "success")
    return redirect(target(created))


def _owned_plan(plan_id):
    """The plan if the user is its owner (another department's: 404, another role: 403)."""
    plan = drills.get_plan(db.session, current_user, plan_id)
    if not drills.is_owner(current_user, plan):
        abort(403)
    return plan


def _drill_of(drill_id, allowed):
    """The drill if allowed(user, its plan) (another department's: 404, else 403)."""
    drill = drills.get_drill(db.session, current_user, drill_id)
    if not allowed(current_user, drill.plan):
        abort(403)
    return drill


def _file(form):
    f = form.document.data
    return (f.filename, f.stream) if f is not None and getattr(f, "filename", "") else None


# -- emergency plans -----------------------------------------------------------------------------

@bp.route("/")
@require(*READERS)
def index():
    page = drills.list_plans(db.session, current_user, page=page_arg(), per_page=per_page())
    dues = {d.plan.id: d for d in drills.plan_dues(db.session, current_user)}
    late = drills.overdue(db.session, current_user)
    return render_template("duties/index.html", page=page, dues=dues, late=late, today=today(),
                           late_rectifications=rect.overdue_rectifications(db.session, current_user),
                           can_create=current_user.role in OWNERS)


@bp.route("/plans/new", methods=["GET", "POST"])
@require(*OWNERS)
def new_plan():
    form = PlanForm()
    systems = drills.system_choices(db.session, current_user)
    form.set_systems(systems)
    done = _saved(form, lambda: drills.create_plan(db.session, request_info(), form.data_for_service()),
                  _("The plan was saved as a draft: check it and submit it for approval."),
                  lambda plan: url_for("duties.plan", plan_id=plan.id))
    return done or render_template("duties/plan_form.html", form=form, plan=None, version=None,
                           platform=current_user.role == Role.VENDOR, systems=systems)


@bp.route("/plans/<int:plan_id>")
@require(*READERS)
def plan(plan_id):
    plan = drills.get_plan(db.session, current_user, plan_id)
    owner = drills.is_owner(current_user, plan)
    return render_template("duties/plan.html", plan=plan, owner=owner, form=NoteForm(),
                           drills_of_plan=drills.list_drills(db.session, current_user, plan_id=plan.id),
                           can_decide=current_user.role == Role.BUREAU,
                           can_schedule=drills.can_schedule(current_user, plan))


@bp.route("/plans/<int:plan_id>/versions/<int:version_id>/edit", methods=["GET", "POST"])
@require(*OWNERS)
def edit_version(plan_id, version_id):
    _owned_plan(plan_id)
    plan, version = drills.get_version(db.session, current_user, plan_id, version_id)
    if version.state not in drills.EDITABLE_VERSIONS:
        flash(_("Only a draft or a returned version can be changed."), "warning")
        return redirect(url_for("duties.plan", plan_id=plan_id))
    form = VersionForm()
    if request.method == "GET":
        form.fill(version)
    if form.validate_on_submit():
        try:
            drills.edit_version(db.session, request_info(), plan_id, version_id, form.content(), _file(form),
                                upload_dir())
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("The version was saved."), "success")
            return redirect(url_for("duties.plan", plan_id=plan_id))
    return render_template("duties/plan_form.html", form=form, plan=plan, version=version, platform=False,
                           systems=[])


@bp.route("/plans/<int:plan_id>/versions/<int:version_id>/act", methods=["POST"])
@require(*WRITERS)
def plan_action(plan_id, version_id):
    """submit, revise (the owner); approve, return (the bureau)."""
    drills.get_plan(db.session, current_user, plan_id)  # 404 for another department's
    form, ctx = NoteForm(), request_info()
    action = request.form.get("action", "")
    if form.validate_on_submit():
        calls = {
            "submit": (lambda: drills.submit_version(db.session, ctx, plan_id, version_id, _settings()),
                       _("The version was submitted to the bureau for approval.")),
            "revise": (lambda: drills.new_version(db.session, ctx, plan_id),
                       _("A new version was started from the latest one.")),
            "approve": (lambda: drills.decide_version(db.session, ctx, plan_id, version_id, "approve",
                                                      form.note.data, _settings()),
                        _("The version was approved and is in force.")),
            "return": (lambda: drills.decide_version(db.session, ctx, plan_id, version_id, "return",
                                                     form.note.data, _settings()),
                       _("The version was returned with the reason.")),
        }
        if action in calls:
            flash_outcome(*calls[action])
    return redirect(url_for("duties.plan", plan_id=plan_id))


@bp.route("/plans/<int:plan_id>/versions/<int:version_id>/document")
@require(*READERS)
def version_document(plan_id, version_id):
    version, path = drills.version_document(db.session, current_user, plan_id, version_id, upload_dir())
    return _document(path, version, "emergency_plan_version", version.department_id)


# -- drills ------------------------------------------------------------------------------------

@bp.route("/drills")
@require(*READERS)
def drill_calendar():
    year = request.args.get("year", type=int) or today().year
    year = min(max(year, 2000), 2100)
    items = drills.list_drills(db.session, current_user, year=year)
    months = {m: [d for d in items if d.scheduled_for.month == m] for m in range(1, 13)}
    return render_template("duties/drills.html", year=year, months=months, total=len(items),
                           late=drills.overdue(db.session, current_user), today=today(),
                           can_schedule=current_user.role in WRITERS)


@bp.route("/drills/new", methods=["GET", "POST"])
@require(*WRITERS)
def new_drill():
    form = DrillForm()
    form.set_plans(drills.schedulable_plans(db.session, current_user))
    if request.method == "GET" and request.args.get("plan_id", type=int):
        form.plan_id.data = request.args.get("plan_id", type=int)
    done = _saved(form, lambda: drills.schedule_drill(db.session, request_info(), form.data, _settings()),
                  _("The drill is on the calendar."), lambda drill: url_for("duties.drill", drill_id=drill.id))
    return done or render_template("duties/drill_form.html", form=form)


@bp.route("/drills/<int:drill_id>")
@require(*READERS)
def drill(drill_id):
    drill = drills.get_drill(db.session, current_user, drill_id)
    owner = drills.is_owner(current_user, drill.plan)
    step_form, finish_form, restore_form = StepForm(), FinishForm(), RestoreForm()
    step_form.outcome.choices = list(STEP_OUTCOME_LABELS.items())
    finish_form.result.choices = list(DRILL_RESULT_LABELS.items())
    finish_form.participants.data = "\n".join(drill.participants)
    backups = drills.restore_choices(db.session, current_user, drill) if owner else []
    restore_form.artifact_id.choices = [(a.id, f"{a.name} · {a.created_at:%Y-%m-%d %H:%M}") for a in backups]
    modes = {m for a in backups for m in RESTORE_MODES_BY_KIND.get(a.kind, ())}
    restore_form.mode.choices = [(m.value, RESTORE_MODE_LABELS[m]) for m in SAFE_FIRST if m in modes]
    return render_template("duties/drill.html", drill=drill, owner=owner, note_form=NoteForm(),
                           start_form=StartForm(), step_form=step_form, finish_form=finish_form,
                           restore_form=restore_form, follow_up_form=FollowUpForm(),
                           can_manage=drills.can_schedule(current_user, drill.plan), today=today())


def _back_to(drill_id):
    return redirect(url_for("duties.drill", drill_id=drill_id))


@bp.route("/drills/<int:drill_id>/act", methods=["POST"])
@require(*WRITERS)
def drill_action(drill_id):
    """start, cancel, close, record (the restore's outcome)."""
    _drill_of(drill_id, drills.can_schedule)
    ctx, action = request_info(), request.form.get("action", "")
    start_form, note_form = StartForm(), NoteForm()
    if note_form.validate_on_submit() and start_form.validate():
        calls = {
            "start": (lambda: drills.start_drill(db.session, ctx, drill_id, _lines(start_form.participants.data)),
                      _("The drill started: record its steps as they happen.")),
            "cancel": (lambda: drills.cancel_drill(db.session, ctx, drill_id, note_form.note.data, _settings()),
                       _("The drill was cancelled.")),
            "close": (lambda: drills.close_drill(db.session, ctx, drill_id), _("The drill was closed.")),
            "record": (lambda: drills.record_restore(db.session, ctx, drills.get_drill(db.session, current_user,
                                                                                        drill_id)),
                       _("The restore's state was read again.")),
        }
        if action in calls:
            flash_outcome(*calls[action])
    return _back_to(drill_id)


@bp.route("/drills/<int:drill_id>/steps", methods=["POST"])
@require(*OWNERS)
def drill_step(drill_id):
    _drill_of(drill_id, drills.is_owner)
    form = StepForm()
    form.outcome.choices = list(STEP_OUTCOME_LABELS.items())
    if form.validate_on_submit():
        flash_outcome(lambda: drills.add_step(db.session, request_info(), drill_id, form.data_for_service()),
                      _("The step is on the timeline."))
    else:
        flash(_("Name the step."), "danger")
    return _back_to(drill_id)


@bp.route("/drills/<int:drill_id>/restore", methods=["POST"])
@require(*OWNERS)
def drill_restore(drill_id):
    _drill_of(drill_id, drills.is_owner)
    form = RestoreForm()
    form.mode.choices = [(m.value, str(label)) for m, label in RESTORE_MODE_LABELS.items()]
    if form.validate_on_submit():
        cloud = current_app.extensions["govcloud_runtime"].cloud()
        flash_outcome(lambda: drills.start_restore(db.session, request_info(), cloud, drill_id, form.artifact_id.data,
                                                   form.mode.data, target_name=form.target_name.data or "",
                                                   settings=_settings()),
                      _("The restore started; its time is recorded when it ends."))
    return _back_to(drill_id)


@bp.route("/drills/<int:drill_id>/finish", methods=["POST"])
@require(*OWNERS)
def drill_finish(drill_id):
    _drill_of(drill_id, drills.is_owner)
    form = FinishForm()
    form.result.choices = list(DRILL_RESULT_LABELS.items())
    if form.validate_on_submit():
        flash_outcome(lambda: drills.finish_drill(db.session, request_info(), drill_id, form.data_for_service(),
                                                  _settings()),
                      _("The drill was recorded; track its follow-up actions to closure."))
    else:
        flash(_("Choose the result and write the summary."), "danger")
    return _back_to(drill_id)


@bp.route("/drills/<int:drill_id>/follow-ups", methods=["POST"])
@require(*WRITERS)
def follow_up(drill_id):
    _drill_of(drill_id, drills.can_schedule)
    form = FollowUpForm()
    if form.validate_on_submit():
        flash_outcome(lambda: drills.add_follow_up(db.session, request_info(), drill_id, form.data),
                      _("The follow-up action was recorded."))
    else:
        flash(_("Describe the action and its due day."), "danger")
    return _back_to(drill_id)


@bp.route("/drills/<int:drill_id>/follow-ups/<int:follow_up_id>/close", methods=["POST"])
@require(*OWNERS)
def close_follow_up(drill_id, follow_up_id):
    _drill_of(drill_id, drills.is_owner)
    form = NoteForm()
    if form.validate_on_submit():
        flash_outcome(lambda: drills.close_follow_up(db.session, request_info(), drill_id, follow_up_id,
                                                     form.note.data, _settings()),
                      _("The follow-up action was closed."))
    return _back_to(drill_id)


# -- rectification notices --------------------------------------------------------------------

@bp.route("/rectifications")
@require(*READERS)
def rectifications():
    state = request.args.get("state", "")
    if state not in set(RectificationState):
        state = ""
    page = rect.list_rectifications(db.session, current_user, state=state, page=page_arg(), per_page=per_page())
    return render_template("duties/rectifications.html", page=page, state=state, today=today(),
                           can_issue=current_user.role in rect.ISSUERS)


@bp.route("/rectifications/new", methods=["GET", "POST"])
@require(*rect.ISSUERS)
def new_rectification():
    form = RectificationForm()
    form.target.choices = [("vendor", _("The vendor")), ("department", _("A department"))]
    form.department_id.choices = [(0, "—")] + [(d.id, d.name) for d in department_choices(db.session, current_user)]
    done = _saved(form, lambda: rect.issue(db.session, request_info(), form.data_for_service(), _settings()),
                  _("The rectification notice was issued."),
                  lambda item: url_for("duties.rectification", rect_id=item.id))
    return done or render_template("duties/rectification_form.html", form=form)


@bp.route("/rectifications/<int:rect_id>")
@require(*READERS)
def rectification(rect_id):
    item = rect.get_rectification(db.session, current_user, rect_id)
    return render_template("duties/rectification.html", item=item, today=today(), answer_form=AnswerForm(),
                           note_form=NoteForm(),
                           can_answer=rect.is_receiver(current_user, item) and item.state in rect.WAITING_FOR_RECEIVER,
                           can_decide=current_user.role in rect.ISSUERS)


@bp.route("/rectifications/<int:rect_id>/answer", methods=["POST"])
@require(Role.DEPARTMENT, Role.VENDOR)
def answer_rectification(rect_id):
    if not rect.is_receiver(current_user, rect.get_rectification(db.session, current_user, rect_id)):
        abort(403)
    form = AnswerForm()
    if form.validate_on_submit():
        flash_outcome(lambda: rect.answer(db.session, request_info(), rect_id, form.text.data, _file(form),
                                          upload_dir(), _settings()),
                      _("Your answer was sent to the bureau."))
    else:
        flash(_("Say what was done."), "danger")
    return redirect(url_for("duties.rectification", rect_id=rect_id))


@bp.route("/rectifications/<int:rect_id>/decide", methods=["POST"])
@require(*rect.ISSUERS)
def decide_rectification(rect_id):
    form, ctx, action = NoteForm(), request_info(), request.form.get("action", "")
    if form.validate_on_submit():
        calls = {
            "accept": (lambda: rect.decide(db.session, ctx, rect_id, "accept", form.note.data, _settings()),
                       _("The rectification was accepted and is closed.")),
            "return": (lambda: rect.decide(db.session, ctx, rect_id, "return", form.note.data, _settings()),
                       _("The answer was returned with the reason.")),
            "withdraw": (lambda: rect.withdraw(db.session, ctx, rect_id, form.note.data, _settings()),
                         _("The notice was withdrawn.")),
        }
        if action in calls:
            flash_outcome(*calls[action])
    return redirect(url_for("duties.rectification", rect_id=rect_id))


@bp.route("/rectifications/<int:rect_id>/evidence/<int:answer_id>")
@require(*READERS)
def evidence(rect_id, answer_id):
    entry, path = rect.evidence(db.session, current_user, rect_id, answer_id, upload_dir())
    return _document(path, entry, "rectification_answer", entry.department_id)


# -- key changes (第二十一条) ---------------------------------------------------------------------

@bp.route("/key-changes")
@require(*CHANGE_READERS)
def key_changes():
    state = request.args.get("state", "")
    if state not in set(KeyChangeState):
        state = ""
    page = rect.list_key_changes(db.session, current_user, state=state, page=page_arg(), per_page=per_page())
    return render_template("duties/key_changes.html", page=page, state=state,
                           can_apply=current_user.role in rect.APPLICANTS)


@bp.route("/key-changes/new", methods=["GET", "POST"])
@require(*rect.APPLICANTS)
def new_key_change():
    form = KeyChangeForm()
    form.kind.choices = list(KEY_CHANGE_KIND_LABELS.items())
    form.maintenance_window_id.choices = [(0, _("None"))] + [(w.id, w.title) for w in rect.open_windows(db.session)]
    done = _saved(form, lambda: rect.apply_key_change(db.session, request_info(), form.data_for_service(),
                                                      _settings()),
                  _("The key change was submitted to the bureau for approval."),
                  lambda change: url_for("duties.key_change", change_id=change.id))
    return done or render_template("duties/key_change_form.html", form=form)


@bp.route("/key-changes/<int:change_id>")
@require(*CHANGE_READERS)
def key_change(change_id):
    change = rect.get_key_change(db.session, current_user, change_id)
    actions = [a for a in rect.KEY_CHANGES.allowed_actions(change.state)
               if current_user.role in rect.KEY_CHANGE_ROLES[a]]
    return render_template("duties/key_change.html", change=change, form=NoteForm(),
                           actions=[a for a in ("approve", "reject", "complete", "cancel") if a in actions])


@bp.route("/key-changes/<int:change_id>/decide", methods=["POST"])
@require(Role.BUREAU, Role.VENDOR)
def decide_key_change(change_id):
    form, action = NoteForm(), request.form.get("action", "")
    done = {"approve": _("The key change was approved."), "reject": _("The key change was rejected."),
            "cancel": _("The key change was cancelled."), "complete": _("The key change was reported carried out.")}
    if form.validate_on_submit() and action in done:
        flash_outcome(lambda: rect.decide_key_change(db.session, request_info(), change_id, action, form.note.data,
                                                     _settings()), done[action])
    return redirect(url_for("duties.key_change", change_id=change_id))


# what the templates test against
STATES = {"PV": PlanVersionState, "DS": DrillState, "RS": RectificationState}


@bp.context_processor
def _states():
    return STATES
