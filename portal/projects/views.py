"""信息化项目 pages (附件1): the department declares and follows, the bureau reviews and records the
decisions of outside bodies, experts give opinions on what is assigned to them, the auditor reads."""
import os

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import require
from ..audit_hooks import mark_download
from ..errors import ValidationFailed
from ..extensions import db
from ..models.accounts import Role
from ..models.projects import PIPELINE, DecisionStage, ProjectState
from ..services import projects as svc
from ..web import request_info, show_error
from .blueprint import READERS, VIEWERS, _settings, bp
from .forms import (AcceptanceForm, ActionForm, AssignForm, DeclareForm, DesignReviewForm, DocumentDecisionForm,
                    DocumentForm, MilestoneForm, OpinionForm, PlanActionForm, ProcurementForm, ProjectForm,
                    ReasonForm, ReviewForm)

OWNER_OR_BUREAU = (Role.DEPARTMENT, Role.BUREAU)


def upload_dir():
    return os.path.join(current_app.instance_path, "uploads", "projects")


def _back(project_id, anchor=""):
    return redirect(url_for(".detail", project_id=project_id) + (f"#{anchor}" if anchor else ""))


def _decided(form, project_id, call, done, anchor=""):
    """A decision form with an approve and a refuse button: call(approved) when one was pressed."""
    svc.get_project(db.session, current_user, project_id)  # another department's: 404 first
    if not (form.approve.data or form.refuse.data):
        flash(_("Not a valid choice."), "danger")
        return _back(project_id, anchor)
    return _act(project_id, lambda: call(bool(form.approve.data)), done, anchor)


def _act(project_id, call, done, anchor=""):
    """Run a decision; flash done, or the refusal (each problem) after rolling back; back to the project."""
    try:
        call()
    except ValidationFailed as exc:
        db.session.rollback()
        for _field, message in getattr(exc, "problems", None) or [(None, exc.message)]:
            flash(str(message), "danger")
    else:
        flash(done, "success")
    return _back(project_id, anchor)


@bp.route("/")
@require(*VIEWERS)
def index():
    """The department's projects, an expert's assignments; the bureau and the auditor go to the pipeline."""
    if current_user.role in READERS:
        return redirect(url_for(".pipeline"))
    if current_user.role == Role.EXPERT:
        return render_template("projects/expert.html", assignments=svc.assignments_of(db.session, current_user))
    return render_template("projects/index.html", projects=svc.list_projects(db.session, current_user))


@bp.route("/pipeline")
@require(*READERS)
def pipeline():
    year = request.args.get("year", type=int)
    stages, closed = svc.pipeline(db.session, current_user, year)
    return render_template("projects/pipeline.html", stages=stages, closed=closed, year=year,
                           years=svc.plan_years(db.session), order=PIPELINE)


@bp.route("/plan/<int:year>", methods=["GET"])
@require(*READERS)
def plan(year):
    return render_template("projects/plan.html", year=year, plan=svc.get_plan(db.session, year),
                           projects=svc.plan_projects(db.session, current_user, year),
                           years=svc.plan_years(db.session), form=DocumentDecisionForm())


@bp.route("/plan/<int:year>/approve", methods=["POST"])
@require(Role.BUREAU)
def approve_plan(year):
    form = DocumentDecisionForm()
    if form.validate_on_submit():
        refused = [p.id for p in svc.plan_projects(db.session, current_user, year)
                   if p.number in {n.strip() for n in (form.refused.data or "").replace("，", ",").split(",")}]
        try:
            svc.approve_plan(db.session, request_info(), year, form.document_number.data, form.decided_on.data,
                             opinion=form.opinion.data or "", refused=refused, reason=form.reason.data or "",
                             settings=_settings())
        except ValidationFailed as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            flash(_("The approval of the city government was recorded."), "success")
    return redirect(url_for(".plan", year=year))


@bp.route("/new", methods=["GET", "POST"])
@require(Role.DEPARTMENT)
def create():
    form = ProjectForm()
    if form.validate_on_submit():
        try:
            project = svc.create_project(db.session, request_info(), form.data_for_service(), _settings())
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("The draft %(number)s was saved.", number=project.number), "success")
            return _back(project.id)
    return render_template("projects/form.html", form=form, project=None)


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@require(Role.DEPARTMENT)
def edit(project_id):
    project = svc.get_project(db.session, current_user, project_id)
    form = ProjectForm()
    if request.method == "GET":
        form.fill(project)
    elif form.validate_on_submit():
        try:
            svc.update_project(db.session, request_info(), project.id, form.data_for_service())
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("The draft was saved."), "success")
            return _back(project.id)
    return render_template("projects/form.html", form=form, project=project)


@bp.route("/<int:project_id>")
@require(*VIEWERS)
def detail(project_id):
    project = svc.get_project(db.session, current_user, project_id)
    mine = [a for a in project.assignments if a.expert_id == current_user.id]
    assign = AssignForm(formdata=None)
    assign.expert_id.choices = [(u.id, u.full_name or u.username) for u in svc.experts(db.session)]
    return render_template(
        "projects/detail.html", project=project, systems=svc.project_systems(db.session, project),
        problems=svc.declaration_problems(project) if project.state in (ProjectState.DRAFT, ProjectState.RETURNED) else [],
        mine=mine, is_owner=current_user.role == Role.DEPARTMENT, is_bureau=current_user.role == Role.BUREAU,
        can_upload=current_user.role == Role.BUREAU or (current_user.role == Role.DEPARTMENT
                                                        and project.state in svc.UPLOADS_BY_STATE),
        actions=svc.PROJECTS.allowed_actions(project.state), S=ProjectState, STAGES=DecisionStage,
        document_form=DocumentForm(formdata=None), declare_form=DeclareForm(formdata=None),
        reason_form=ReasonForm(formdata=None), review_form=ReviewForm(formdata=None), assign_form=assign,
        opinion_form=OpinionForm(formdata=None), plan_form=PlanActionForm(formdata=None),
        decision_form=DocumentDecisionForm(formdata=None), design_form=DesignReviewForm(formdata=None),
        procurement_form=ProcurementForm(formdata=None), milestone_form=MilestoneForm(formdata=None),
        acceptance_form=AcceptanceForm(formdata=None), action_form=ActionForm(formdata=None))


@bp.route("/<int:project_id>/documents", methods=["POST"])
@require(*OWNER_OR_BUREAU)
def upload(project_id):
    svc.get_project(db.session, current_user, project_id)  # another department's: 404 first
    form = DocumentForm()
    file = form.document.data
    if not form.validate_on_submit() or file is None or not getattr(file, "filename", ""):
        flash(_("Choose a file to upload."), "danger")
        return _back(project_id, "documents")
    return _act(project_id, lambda: svc.add_document(db.session, request_info(), project_id, form.purpose.data,
                                                     file.filename, file.stream, upload_dir()),
                _("The document was uploaded."), "documents")


@bp.route("/<int:project_id>/documents/<int:document_id>")
@require(*VIEWERS)
def document(project_id, document_id):
    doc, path = svc.get_document(db.session, current_user, project_id, document_id, upload_dir())
    if not os.path.exists(path):
        abort(404)
    mark_download("project_document", doc.id, doc.project.department_id)
    return send_file(path, mimetype=doc.content_type, as_attachment=True, download_name=doc.filename)


@bp.route("/<int:project_id>/declare", methods=["POST"])
@require(Role.DEPARTMENT)
def declare(project_id):
    form = DeclareForm()
    form.validate_on_submit()
    return _act(project_id, lambda: svc.declare(db.session, request_info(), project_id, _settings(),
                                                urgent_reason=form.urgent_reason.data or ""),
                _("The project was declared to the big-data bureau."))


@bp.route("/<int:project_id>/withdraw", methods=["POST"])
@require(Role.DEPARTMENT)
def withdraw(project_id):
    form = ReasonForm()
    form.validate_on_submit()
    return _act(project_id, lambda: svc.withdraw(db.session, request_info(), project_id, form.reason.data or ""),
                _("The project was withdrawn."))


@bp.route("/<int:project_id>/review", methods=["POST"])
@require(Role.BUREAU)
def review(project_id):
    form = ReviewForm()
    form.validate_on_submit()
    outcome = "pass" if form.passed.data else "return" if form.send_back.data else "reject" if form.reject.data else ""
    return _act(project_id, lambda: svc.decide_review(db.session, request_info(), project_id, outcome,
                                                      checklist=form.checklist(), opinion=form.opinion.data or "",
                                                      reason=form.reason.data or "", settings=_settings()),
                _("The preliminary review was recorded."))


@bp.route("/<int:project_id>/experts", methods=["POST"])
@require(Role.BUREAU)
def assign(project_id):
    form = AssignForm()
    form.validate_on_submit()
    return _act(project_id, lambda: svc.assign_expert(db.session, request_info(), project_id, form.expert_id.data,
                                                      form.stage.data, _settings(), due_on=form.due_on.data),
                _("The expert was asked for an opinion."), "experts")


@bp.route("/<int:project_id>/opinion", methods=["POST"])
@require(Role.EXPERT)
def opinion(project_id):
    project = svc.get_project(db.session, current_user, project_id)
    form = OpinionForm()
    form.validate_on_submit()
    open_ = [a for a in project.assignments if a.expert_id == current_user.id
             and project.state in svc.EXPERT_STAGES.get(a.stage, ())]
    if not open_:
        flash(_("No opinion is asked of you at this stage."), "danger")
        return _back(project_id)
    return _act(project_id, lambda: svc.give_opinion(db.session, request_info(), open_[-1].id, form.conclusion.data,
                                                     form.opinion.data, form.checklist(), _settings()),
                _("Your opinion was recorded."), "experts")


@bp.route("/<int:project_id>/plan", methods=["POST"])
@require(Role.BUREAU)
def plan_action(project_id):
    form = PlanActionForm()
    form.validate_on_submit()
    calls = {"add": lambda: svc.add_to_plan(db.session, request_info(), project_id, form.reason.data or "",
                                            _settings()),
             "remove": lambda: svc.remove_from_plan(db.session, request_info(), project_id, form.reason.data or ""),
             "urgent": lambda: svc.admit_urgent(db.session, request_info(), project_id, form.reason.data or "",
                                                _settings())}
    call = calls.get(form.action.data)
    svc.get_project(db.session, current_user, project_id)
    if call is None:
        flash(_("Not a valid choice."), "danger")
        return _back(project_id)
    return _act(project_id, call, _("The annual plan was changed."))


@bp.route("/<int:project_id>/feasibility", methods=["POST"])
@require(Role.BUREAU)
def feasibility(project_id):
    form = DocumentDecisionForm()
    form.validate_on_submit()
    return _decided(form, project_id, lambda approved: svc.record_feasibility(
        db.session, request_info(), project_id, approved, form.document_number.data,
        form.decided_on.data, opinion=form.opinion.data or "", reason=form.reason.data or "", settings=_settings()),
        _("The decision of the development and reform commission was recorded."))


@bp.route("/<int:project_id>/design", methods=["POST"])
@require(Role.DEPARTMENT)
def submit_design(project_id):
    return _act(project_id, lambda: svc.submit_design(db.session, request_info(), project_id, _settings()),
                _("The design and estimate were submitted for review."))


@bp.route("/<int:project_id>/design-review", methods=["POST"])
@require(Role.BUREAU)
def design_review(project_id):
    form = DesignReviewForm()
    form.validate_on_submit()
    return _decided(form, project_id, lambda approved: svc.record_design_review(
        db.session, request_info(), project_id, approved, body=form.body.data,
        reviewer=form.reviewer.data or "", opinion=form.opinion.data or "", reason=form.reason.data or "",
        approved_estimate=form.approved_estimate.data, approved_scope=form.approved_scope.data or "",
        document_number=form.document_number.data or "", decided_on=form.decided_on.data, settings=_settings()),
        _("The design review was recorded."))


@bp.route("/<int:project_id>/procurement", methods=["POST"])
@require(*OWNER_OR_BUREAU)
def procurement(project_id):
    form = ProcurementForm()
    form.validate_on_submit()
    return _act(project_id, lambda: svc.record_procurement(
        db.session, request_info(), project_id, method=form.method.data, supplier=form.supplier.data,
        contract_amount=form.contract_amount.data, supervisor=form.supervisor.data or "",
        procured_on=form.procured_on.data), _("The procurement was recorded."))


@bp.route("/<int:project_id>/construction", methods=["POST"])
@require(*OWNER_OR_BUREAU)
def construction(project_id):
    return _act(project_id, lambda: svc.start_construction(db.session, request_info(), project_id),
                _("Construction started."))


@bp.route("/<int:project_id>/milestones", methods=["POST"])
@require(*OWNER_OR_BUREAU)
def milestone(project_id):
    form = MilestoneForm()
    form.validate_on_submit()
    if (form.milestone_id.data or "").isdigit():
        return _act(project_id, lambda: svc.complete_milestone(
            db.session, request_info(), project_id, int(form.milestone_id.data), form.done_on.data,
            form.note.data or ""), _("The milestone was recorded."), "milestones")
    return _act(project_id, lambda: svc.add_milestone(
        db.session, request_info(), project_id, form.title.data, form.planned_on.data, form.done_on.data,
        form.note.data or ""), _("The milestone was recorded."), "milestones")


@bp.route("/<int:project_id>/acceptance/request", methods=["POST"])
@require(Role.DEPARTMENT)
def request_acceptance(project_id):
    form = ReasonForm()
    form.validate_on_submit()
    return _act(project_id, lambda: svc.request_acceptance(db.session, request_info(), project_id,
                                                           form.reason.data or "", _settings()),
                _("Acceptance was requested."))


@bp.route("/<int:project_id>/acceptance", methods=["POST"])
@require(Role.BUREAU)
def acceptance(project_id):
    form = AcceptanceForm()
    form.validate_on_submit()
    return _decided(form, project_id, lambda approved: svc.record_acceptance(
        db.session, request_info(), project_id, approved, form.held_on.data,
        opinion=form.opinion.data or "", rectification_items=form.rectification_items.data or "",
        rectification_deadline=form.rectification_deadline.data, document_number=form.document_number.data or "",
        settings=_settings()), _("The acceptance was recorded."), "acceptance")


@bp.route("/systems/<int:request_id>/in-use", methods=["POST"])
@require(Role.DEPARTMENT)
def system_in_use(request_id):
    """Mark a system in use (正式运行): refused while its project has not passed acceptance (第十五条)."""
    try:
        svc.mark_in_use(db.session, request_info(), request_id)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        flash(_("The system is marked in use."), "success")
    return redirect(url_for("requests.detail", request_id=request_id))
