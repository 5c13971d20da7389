"""信息化项目 (regulation 附件1): declaration, the bureau's reviews with experts, the annual plan, the
decisions of outside bodies, design review, procurement, milestones, acceptance; the gate that ties
cloud resources to a project that passed the design review (第七条(七), 第九条).

Every move goes through transitions.transition (409 when two act at once, audited with its reason)
and leaves a ProjectDecision row naming who decided, the document number and date.
"""
import calendar
import os
from datetime import date
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..database import utcnow
from ..errors import Forbidden, InputInvalid, NotFound, ValidationFailed, WrongState
from ..models.accounts import Role, User
from ..models.projects import (ACCEPTED, DECLARATION_DOCUMENTS, DESIGN_PASSED, DOCUMENT_PURPOSE_LABELS, EDITABLE,
                               PIPELINE, PROJECTS, REVIEW_CHECKLIST, AcceptanceOutcome, AnnualPlan, ConstructionKind,
                               DecisionBody, DecisionOutcome, DecisionStage, DocumentPurpose, ExpertAssignment,
                               ExpertConclusion, FundingSource, Project, ProjectAcceptance, ProjectDecision,
                               ProjectDocument, ProjectMilestone, ProjectState, ProjectType)
from ..models.requests import ResourceRequest
from ..scoping import get_scoped, scoped
from ..text import _l
from ..workflow import RequestKind
from .audit import record_event
from .notifications import notify_department, notify_roles, notify_users
from .project_gate import IN_USE, TRIAL, gate_problems, requestable_projects, system_phase  # noqa: F401
from .resource_requests import delivered_resources, get_request, store_upload, system_status
from .transitions import lock, transition

P = ProjectState
# who sees projects: the department its own, the bureau and the auditor all, an expert those assigned
VIEWERS = (Role.DEPARTMENT, Role.BUREAU, Role.AUDITOR, Role.EXPERT)
TEXT_FIELDS = ("name", "content", "necessity", "cloud_exemption", "data_sharing", "funding_note", "schedule",
               "responsible_person", "responsible_phone", "leader")
MAX_TEXT = {"name": 200, "responsible_person": 64, "responsible_phone": 32, "leader": 64}
MAX_LONG_TEXT = 20000
REQUIRED_FIELDS = ("name", "content", "necessity", "data_sharing", "schedule", "responsible_person")
MAX_AMOUNT = Decimal("999999999999.99")
SETTINGS_DEFAULTS = {"PROJECT_DECLARATION_MONTHS": [9], "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai"}


# --- who may do what ---------------------------------------------------------------------------

def _require_bureau(user):
    if user is None or user.role != Role.BUREAU:
        raise Forbidden()


def _require_owner(user, project):
    """Only a user of the project's department acts for it (others never see it: 404 before this)."""
    if user is None or user.role != Role.DEPARTMENT or user.department_id != project.department_id:
        raise Forbidden()


def _require_text(value, field, message=None):
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(message or _l("This field is required."), field=field)
    return value


def local_today(settings, now=None):
    """Today in Beijing time (the settings' zone)."""
    zone = ZoneInfo((settings or {}).get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")
    return (now or utcnow()).astimezone(zone).date()


def add_years(day, years):
    """day plus years (29 February becomes 28 February)."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


# --- reading -----------------------------------------------------------------------------------

def projects_select(user, *, state="", year=None, q=""):
    """The select of the projects user may see, newest first (scoping: a department its own, an
    expert those assigned to them)."""
    if user is None or user.role not in VIEWERS:
        raise Forbidden()
    stmt = scoped(select(Project), user)
    if state:
        stmt = stmt.where(Project.state == state)
    if year:
        stmt = stmt.where(Project.plan_year == year)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(Project.name.ilike(like) | Project.number.ilike(like))
    return stmt.options(joinedload(Project.department)).order_by(Project.id.desc())


def list_projects(session, user, **filters):
    return list(session.scalars(projects_select(user, **filters).limit(500)))


def get_project(session, user, project_id):
    """Return a project user may see, or raise NotFound (another department's, an expert's unassigned)."""
    if user is None or user.role not in VIEWERS:
        raise Forbidden()
    return get_scoped(session, Project, project_id, user, kind=_l("Project"))


def pipeline(session, user, year=None):
    """{state: [projects]} for the bureau's pipeline, in the order of the flow (closed ones apart)."""
    rows = list(session.scalars(projects_select(user, year=year)))
    stages = {state: [p for p in rows if p.state == state] for state in PIPELINE}
    closed = [p for p in rows if p.state not in PIPELINE and p.state != P.DRAFT]
    return stages, closed


def plan_years(session):
    """The years projects were declared for, newest first."""
    return [y for (y,) in session.execute(select(Project.plan_year).distinct().order_by(Project.plan_year.desc()))]


def plan_projects(session, user, year):
    """The projects of a year's annual plan (列入年度计划 and later), and the urgent ones admitted."""
    stmt = projects_select(user, year=year).where(
        Project.state.in_([s for s in PIPELINE if PIPELINE.index(s) >= PIPELINE.index(P.PLANNED)]))
    return list(session.scalars(stmt.order_by(None).order_by(Project.urgent, Project.id)))


def get_plan(session, year):
    return session.scalar(select(AnnualPlan).where(AnnualPlan.year == year))


def experts(session):
    return list(session.scalars(select(User).where(User.role == Role.EXPERT, User.is_active_account.is_(True))
                                .order_by(User.full_name, User.username)))


def assignments_of(session, user):
    """An expert's assignments, open ones first."""
    return list(session.scalars(select(ExpertAssignment).where(ExpertAssignment.expert_id == user.id)
                                .options(joinedload(ExpertAssignment.project))
                                .order_by(ExpertAssignment.opinion_at.is_not(None), ExpertAssignment.id.desc())))


def project_systems(session, project):
    """The systems (new requests) linked to the project, each with its status, phase and live resources."""
    systems = list(session.scalars(select(ResourceRequest).where(
        ResourceRequest.project_id == project.id, ResourceRequest.kind == RequestKind.NEW)
        .order_by(ResourceRequest.id)))
    out = []
    for system in systems:
        status = system_status(session, system.id)
        resources = (delivered_resources(session, system.department_id, system.id)
                     if status in ("live", "pending") else [])
        out.append({"system": system, "status": status, "phase": system_phase(system),
                    "resources": [r for r in resources if r.system_id == system.id]})
    return out


def missing_documents(project, purposes=DECLARATION_DOCUMENTS):
    uploaded = {d.purpose for d in project.documents}
    return [p for p in purposes if p not in uploaded]


# --- the department: the 申报表 and its documents ---------------------------------------------------

def _amount(value, field, *, required=True):
    if value in (None, ""):
        if required:
            raise ValidationFailed(_l("This field is required."), field=field)
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_l("Enter an amount in yuan."), field=field) from None
    if amount < 0 or amount > MAX_AMOUNT:
        raise ValidationFailed(_l("Enter an amount in yuan."), field=field)
    return amount


def _choice(value, enum, field):
    try:
        return enum(value).value
    except ValueError:
        raise ValidationFailed(_l("Not a valid choice."), field=field) from None


def _fields(data):
    """The 申报表 fields of data, cleaned and bounded (a draft may leave text empty)."""
    out = {}
    problems = []
    for f in TEXT_FIELDS:
        value = str(data.get(f) or "").strip()
        if len(value) > MAX_TEXT.get(f, MAX_LONG_TEXT):
            problems.append((f, _l("Too long.")))
        out[f] = value
    if not out["name"]:
        problems.append(("name", _l("This field is required.")))
    if problems:
        raise InputInvalid(problems)
    out["project_type"] = _choice(data.get("project_type") or ProjectType.SOFTWARE, ProjectType, "project_type")
    out["construction_kind"] = _choice(data.get("construction_kind") or ConstructionKind.NEW, ConstructionKind,
                                       "construction_kind")
    out["funding_source"] = _choice(data.get("funding_source") or FundingSource.FISCAL, FundingSource,
                                    "funding_source")
    out["on_government_cloud"] = bool(data.get("on_government_cloud"))
    out["estimate"] = _amount(data.get("estimate") or 0, "estimate")
    for f in ("planned_start", "planned_end"):
        value = data.get(f)
        if value is not None and not isinstance(value, date):
            raise ValidationFailed(_l("Not a valid date."), field=f)
        out[f] = value
    if out["planned_start"] and out["planned_end"] and out["planned_end"] < out["planned_start"]:
        raise ValidationFailed(_l("The end must be after the start."), field="planned_end")
    return out


def create_project(session, ctx, data, settings=None, now=None):
    """A department user starts a project (a draft of the 申报表)."""
    user = ctx.actor
    if user is None or user.role != Role.DEPARTMENT:
        raise Forbidden()
    fields = _fields(data)
    today = local_today(settings, now)
    project = Project(number=f"tmp-{utcnow().timestamp()}", department_id=user.department_id,
                      state=P.DRAFT, plan_year=today.year + 1, created_by_id=user.id, **fields)
    session.add(project)
    session.flush()
    project.number = f"XM-{today.year}-{project.id:05d}"  # the year in Beijing, as on the 申报表
    record_event(session, ctx, "project.create", object_type="project", object_id=project.id,
                 department_id=project.department_id, after=project.snapshot())
    session.commit()
    return project


def update_project(session, ctx, project_id, data):
    """Change the 申报表 of a draft or returned project."""
    project = get_project(session, ctx.actor, project_id)
    _require_owner(ctx.actor, project)
    lock(session, project)
    if project.state not in EDITABLE:
        raise WrongState(_l("Only drafts and returned projects can be edited."))
    fields = _fields(data)
    before = project.snapshot()
    for key, value in fields.items():
        setattr(project, key, value)
    session.flush()
    record_event(session, ctx, "project.update", object_type="project", object_id=project.id,
                 department_id=project.department_id, before=before, after=project.snapshot())
    session.commit()
    return project


# the documents the department may upload in each state (a decision's document: the bureau's)
UPLOADS_BY_STATE = {
    P.DRAFT: (DocumentPurpose.FEASIBILITY, DocumentPurpose.ESTIMATE, DocumentPurpose.FUNDING_PLAN,
              DocumentPurpose.DESIGN, DocumentPurpose.OTHER),
    P.RETURNED: (DocumentPurpose.FEASIBILITY, DocumentPurpose.ESTIMATE, DocumentPurpose.FUNDING_PLAN,
                 DocumentPurpose.DESIGN, DocumentPurpose.OTHER),
    P.APPROVED: (DocumentPurpose.DESIGN, DocumentPurpose.ESTIMATE, DocumentPurpose.OTHER),  # 第七条(五)
}
ANY_TIME = (DocumentPurpose.OTHER,)


def add_document(session, ctx, project_id, purpose, filename, stream, upload_dir):
    """Store a document of a project (PDF, Office; checked as a request's attachments are): the
    department's 申报 documents while it may change them, the bureau's decision documents any time."""
    project = get_project(session, ctx.actor, project_id)
    if purpose not in {p.value for p in DocumentPurpose}:
        raise ValidationFailed(_l("Choose what the document is."), field="purpose")
    if ctx.actor.role == Role.BUREAU:
        if purpose not in (DocumentPurpose.DECISION, DocumentPurpose.OTHER):
            raise ValidationFailed(_l("Choose what the document is."), field="purpose")
    else:
        _require_owner(ctx.actor, project)
        if purpose not in UPLOADS_BY_STATE.get(project.state, ANY_TIME):
            raise WrongState(_l("This document cannot be changed at this stage of the project."))
    stored = store_upload(filename, stream, upload_dir)
    document = ProjectDocument(project_id=project.id, purpose=purpose, uploaded_by_id=ctx.actor.id, **stored)
    session.add(document)
    session.flush()
    record_event(session, ctx, "project.attach", object_type="project", object_id=project.id,
                 department_id=project.department_id,
                 after={"filename": document.filename, "size": document.size, "sha256": document.sha256,
                        "purpose": purpose})
    session.commit()
    return document


def get_document(session, user, project_id, document_id, upload_dir):
    """Return (document, path) of a document of a project user may see."""
    project = get_project(session, user, project_id)
    document = session.get(ProjectDocument, document_id)
    if document is None or document.project_id != project.id:
        raise NotFound(_l("Document"), document_id)
    return document, os.path.join(upload_dir, document.stored_name)


def declaration_open(settings, today):
    """True in the months of the annual declaration window (第七条(一): September by default)."""
    months = (settings or {}).get("PROJECT_DECLARATION_MONTHS") or SETTINGS_DEFAULTS["PROJECT_DECLARATION_MONTHS"]
    return today.month in {int(m) for m in months}


def declaration_problems(project):
    """(field, message) problems that keep a project from being declared."""
    problems = [(f, _l("This field is required.")) for f in REQUIRED_FIELDS if not getattr(project, f)]
    if not project.estimate or project.estimate <= 0:
        problems.append(("estimate", _l("Enter the estimated investment.")))
    if not project.on_government_cloud and not project.cloud_exemption:
        problems.append(("cloud_exemption", _l("A new system runs on the government cloud (article 4): say which law "
                                               "or superior rule allows otherwise.")))
    for purpose in missing_documents(project):
        problems.append(("document", _l("Upload the %(document)s: a declaration (article 7(1)) needs it.",
                                        document=DOCUMENT_PURPOSE_LABELS[purpose])))
    return problems


def _decide(session, ctx, project, action, *, stage, body, outcome, reason="", opinion="", document_number="",
            decided_on=None, reviewer="", checklist=None, effects=None, plan=None):
    """Move project by action and record the decision (who, outcome, document, date, opinion, reason);
    the audit event carries the decision."""
    decision = ProjectDecision(project_id=project.id, plan_id=plan.id if plan is not None else None, stage=stage,
                               body=body, outcome=outcome, action=action, document_number=document_number,
                               decided_on=decided_on, reviewer=reviewer, opinion=opinion, reason=reason,
                               checklist=checklist, recorded_by_id=ctx.actor.id if ctx.actor else None)
    session.add(decision)
    session.flush()
    transition(session, ctx, PROJECTS, project, action, detail=reason or opinion, effects=effects,
               after={"decision": {"id": decision.id, "stage": stage, "body": body, "outcome": outcome,
                                   "document_number": document_number,
                                   "decided_on": decided_on.isoformat() if decided_on else None}})
    return decision


def _link(project):
    return f"/projects/{project.id}"


def _tell_department(session, settings, project, subject, body):
    notify_department(session, settings or {}, project.department_id, subject=f"[信息化项目] {subject}",
                      body=body, topic=f"project:{project.id}", link=_link(project))


def _tell_bureau(session, settings, project, subject, body):
    notify_roles(session, settings or {}, (Role.BUREAU,), subject=f"[信息化项目] {subject}", body=body,
                 topic=f"project:{project.id}", link=_link(project), department_id=project.department_id)


def declare(session, ctx, project_id, settings=None, *, urgent_reason="", now=None):
    """The department declares its project to the bureau: in the annual window (September by
    default) for the next year's plan; outside it only as an urgent project with its reason (第八条),
    for this year."""
    project = get_project(session, ctx.actor, project_id)
    _require_owner(ctx.actor, project)
    today = local_today(settings, now)
    urgent_reason = (urgent_reason or "").strip()
    in_window = declaration_open(settings, today)
    problems = declaration_problems(project)
    if not in_window and not urgent_reason:
        problems.append(("urgent_reason", _l(
            "The declaration window is closed: projects are declared in the window for the next year (article 7(1)). "
            "An urgent project outside the annual plan may be declared with its reason (article 8).")))
    if problems:
        raise InputInvalid(problems, problems[0][1])

    again = project.state == P.RETURNED  # declared again after a return: a new version

    def effects(p, _now):
        p.urgent = bool(urgent_reason)
        p.urgent_reason = urgent_reason
        p.plan_year = today.year if urgent_reason else today.year + 1
        if again:
            p.version += 1

    _decide(session, ctx, project, "declare", stage=DecisionStage.URGENT if urgent_reason else DecisionStage.DECLARATION,
            body=DecisionBody.DEPARTMENT, outcome=DecisionOutcome.SUBMITTED, reason=urgent_reason, effects=effects)
    kind = "紧急项目（计划外）" if project.urgent else f"{project.plan_year}年度项目"
    _tell_bureau(session, settings, project, f"新申报：{project.name}",
                 f"{project.department.name}申报了{kind}“{project.name}”（{project.number}），请组织初审。\n")
    session.commit()
    return project


def withdraw(session, ctx, project_id, reason=""):
    project = get_project(session, ctx.actor, project_id)
    _require_owner(ctx.actor, project)
    _decide(session, ctx, project, "withdraw", stage=DecisionStage.DECLARATION, body=DecisionBody.DEPARTMENT,
            outcome=DecisionOutcome.WITHDRAWN, reason=(reason or "").strip())
    session.commit()
    return project


# --- the bureau: 初审 with experts (第七条(二)) ---------------------------------------------------------

def start_review(session, ctx, project_id):
    _require_bureau(ctx.actor)
    project = get_project(session, ctx.actor, project_id)
    transition(session, ctx, PROJECTS, project, "start_review")
    session.commit()
    return project


# the stages at which the bureau asks experts, and the states a project may be in then
EXPERT_STAGES = {
    DecisionStage.PRELIMINARY_REVIEW: (P.DECLARED, P.PRELIMINARY_REVIEW),
    DecisionStage.DESIGN_REVIEW: (P.APPROVED, P.DESIGN_REVIEW),
    DecisionStage.ACCEPTANCE: (P.CONSTRUCTION, P.ACCEPTANCE, P.RECTIFICATION),
    DecisionStage.EVALUATION: (P.IN_USE, P.EVALUATED),
}


def assign_expert(session, ctx, project_id, expert_id, stage, settings=None, due_on=None):
    """The bureau asks an expert for an opinion on a project at a stage; the expert is told."""
    _require_bureau(ctx.actor)
    project = get_project(session, ctx.actor, project_id)
    if stage not in EXPERT_STAGES:
        raise ValidationFailed(_l("Not a valid choice."), field="stage")
    if project.state not in EXPERT_STAGES[stage]:
        raise WrongState(_l("Experts cannot be asked at this stage of the project."))
    expert = session.get(User, expert_id)
    if expert is None or expert.role != Role.EXPERT or not expert.is_active_account:
        raise ValidationFailed(_l("Choose an expert."), field="expert_id")
    exists = session.scalar(select(ExpertAssignment).where(
        ExpertAssignment.project_id == project.id, ExpertAssignment.expert_id == expert.id,
        ExpertAssignment.stage == stage))
    if exists is not None:
        raise ValidationFailed(_l("This expert is already asked at this stage."), field="expert_id")
    assignment = ExpertAssignment(project_id=project.id, expert_id=expert.id, stage=stage,
                                  assigned_by_id=ctx.actor.id, due_on=due_on)
    session.add(assignment)
    session.flush()
    record_event(session, ctx, "project.assign_expert", object_type="project", object_id=project.id,
                 department_id=project.department_id,
                 after={"expert": expert.username, "stage": stage, "due_on": due_on.isoformat() if due_on else None})
    notify_users(session, settings or {}, [expert], subject=f"[信息化项目] 评审邀请：{project.name}",
                 body=f"市大数据管理局请您对“{project.name}”（{project.number}）提出评审意见。\n",
                 topic=f"project:{project.id}", link=_link(project), department_id=project.department_id)
    session.commit()
    return assignment


def give_opinion(session, ctx, assignment_id, conclusion, opinion, checklist=None, settings=None):
    """An expert gives (or corrects, until the stage is decided) the opinion asked of them."""
    user = ctx.actor
    if user is None or user.role != Role.EXPERT:
        raise Forbidden()
    assignment = session.get(ExpertAssignment, assignment_id)
    if assignment is None or assignment.expert_id != user.id:
        raise NotFound(_l("Assignment"), assignment_id)
    project = assignment.project
    if project.state not in EXPERT_STAGES.get(assignment.stage, ()):
        raise WrongState(_l("This stage of the project is decided: the opinion can no longer change."))
    conclusion = _choice(conclusion, ExpertConclusion, "conclusion")
    opinion = _require_text(opinion, "opinion")
    if len(opinion) > MAX_LONG_TEXT:
        raise ValidationFailed(_l("Too long."), field="opinion")
    before = {"conclusion": assignment.conclusion, "opinion_at": assignment.opinion_at}
    assignment.conclusion = conclusion
    assignment.opinion = opinion
    assignment.checklist = {k: bool((checklist or {}).get(k)) for k in REVIEW_CHECKLIST} if checklist else None
    assignment.opinion_at = utcnow()
    session.flush()
    record_event(session, ctx, "project.expert_opinion", object_type="project", object_id=project.id,
                 department_id=project.department_id, before=before,
                 after={"assignment": assignment.id, "stage": assignment.stage, "conclusion": conclusion},
                 detail=opinion[:500])
    _tell_bureau(session, settings, project, f"专家意见：{project.name}",
                 f"评审专家{user.full_name or user.username}对“{project.name}”提出了意见。\n")
    session.commit()
    return assignment


def stage_opinions(project, stage):
    return [a for a in project.assignments if a.stage == stage]


def review_problems(project, checklist):
    """Why a preliminary review cannot pass: every point of 第七条(二) checked, and every expert asked
    has answered (at least one)."""
    problems = [("checklist", _l("Every point of the preliminary review (article 7(2)) must be met to pass."))
                for k in REVIEW_CHECKLIST if not checklist.get(k)][:1]
    asked = stage_opinions(project, DecisionStage.PRELIMINARY_REVIEW)
    if not asked:
        problems.append(("experts", _l("Ask at least one expert for an opinion first.")))
    elif any(not a.answered for a in asked):
        problems.append(("experts", _l("Wait for the opinion of every expert asked.")))
    return problems


def decide_review(session, ctx, project_id, outcome, *, checklist=None, opinion="", reason="", settings=None):
    """The bureau's 初审: pass (with the checklist of 第七条(二) and the experts' opinions), return for
    revision or reject (both with a reason)."""
    _require_bureau(ctx.actor)
    project = get_project(session, ctx.actor, project_id)
    checklist = {k: bool((checklist or {}).get(k)) for k in REVIEW_CHECKLIST}
    reason = (reason or "").strip()
    opinion = (opinion or "").strip()
    if outcome == "pass":
        problems = review_problems(project, checklist)
        if problems:
            raise InputInvalid(problems, problems[0][1])
        action, result = "pass_review", DecisionOutcome.PASSED
    elif outcome in ("return", "reject"):
        _require_text(reason, "reason", _l("Give the reason."))
        action = outcome
        result = DecisionOutcome.RETURNED if outcome == "return" else DecisionOutcome.REJECTED
    else:
        raise ValidationFailed(_l("Not a valid choice."), field="outcome")
    if project.state == P.DECLARED and action == "pass_review":
        transition(session, ctx, PROJECTS, project, "start_review")
    _decide(session, ctx, project, action, stage=DecisionStage.PRELIMINARY_REVIEW, body=DecisionBody.BUREAU,
            outcome=result, reason=reason, opinion=opinion, checklist=checklist)
    words = {"pass_review": "通过初审", "return": "退回修改", "reject": "未通过初审"}[action]
    _tell_department(session, settings, project, f"{words}：{project.name}",
                     f"“{project.name}”（{project.number}）{words}。{reason or opinion}\n")
    session.commit()
    return project


# --- the annual plan (第七条(三)) and 市政府, urgent projects (第八条) -----------------------------------

def _plan(session, year):
    plan = get_plan(session, year)
    if plan is None:
        plan = AnnualPlan(year=year)
        session.add(plan)
        session.flush()
    return plan


def add_to_plan(session, ctx, project_id, reason="", settings=None):
    """The bureau puts a project that passed the preliminary review into its year's plan."""
    _require_bureau(ctx.actor)
    project = get_project(session, ctx.actor, project_id)
    if project.urgent:
        raise WrongState(_l("An urgent project outside the plan is admitted, not planned (article 8)."))
    plan = _plan(session, project.plan_year)
    if plan.state == "approved":
        raise WrongState(_l("The plan of this year is approved: it is not changed any more (article 8)."))
    _decide(session, ctx, project, "add_to_plan", stage=DecisionStage.ANNUAL_PLAN, body=DecisionBody.BUREAU,
            outcome=DecisionOutcome.PASSED, reason=(reason or "").strip(), plan=plan)
    _tell_department(session, settings, project, f"列入{project.plan_year}年度计划：{project.name}",
                     f"“{project.name}”（{project.number}）列入{project.plan_year}年度建设计划，待市政府审定。\n")
    session.commit()
    return project


def remove_from_plan(session, ctx, project_id, reason):
    _require_bureau(ctx.actor)
    project = get_project(session, ctx.actor, project_id)
    plan = _plan(session, project.plan_year)
    if plan.state == "approved":
        raise WrongState(_l("The plan of this year is approved: it is not changed any more (article 8)."))
    _decide(session, ctx, project, "remove_from_plan", stage=DecisionStage.ANNUAL_PLAN, body=DecisionBody.BUREAU,
            outcome=DecisionOutcome.RETURNED, reason=_require_text(reason, "reason", _l("Give the reason.")),
            plan=plan)
    session.commit()
    return project


def admit_urgent(session, ctx, project_id, reason, settings=None):
    """第八条: an urgent project outside the plan, reviewed, enters the approval flow (the bureau's decision)."""
    _require_bureau(ctx.actor)
    project = get_project(session, ctx.actor, project_id)
    if not project.urgent:
        raise WrongState(_l("Only an urgent project outside the plan is admitted this way (article 8)."))
    _decide(session, ctx, project, "admit_urgent", stage=DecisionStage.URGENT, body=DecisionBody.BUREAU,
            outcome=DecisionOutcome.PASSED, reason=_require_text(reason, "reason", _l("Give the reason.")))
    _tell_department(session, settings, project, f"紧急项目准予进入审批流程：{project.name}",
                     f"“{project.name}”（{project.number}）准予进入项目审批流程（第八条）。\n")
    session.commit()
    return project


def _document(document_number, decided_on):
    document_number = _require_text(document_number, "document_number", _l("Enter the document number."))
    if len(document_number) > 120:
        raise ValidationFailed(_l("Too long."), field="document_number")
    if not isinstance(decided_on, date):
        raise ValidationFailed(_l("Enter the date of the document."), field="decided_on")
    return document_number


def approve_plan(session, ctx, year, document_number, decided_on, *, opinion="", refused=(), reason="",
                 settings=None):
    """Record 市政府's approval of the year's plan with its document: every planned project of the year
    moves on (those in refused are not approved, with the reason)."""
    _require_bureau(ctx.actor)
    document_number = _document(document_number, decided_on)
    plan = get_plan(session, year)
    if plan is None or plan.state == "approved":
        raise WrongState(_l("There is no plan of this year waiting for approval."))
    planned = list(session.scalars(select(Project).where(Project.plan_year == year, Project.state == P.PLANNED)
                                   .order_by(Project.id)))
    if not planned:
        raise WrongState(_l("There is no plan of this year waiting for approval."))
    refused = {int(i) for i in refused}
    if refused and not (reason or "").strip():
        raise ValidationFailed(_l("Give the reason."), field="reason")
    plan.state = "approved"
    plan.approved_document = document_number
    plan.approved_on = decided_on
    session.add(ProjectDecision(plan_id=plan.id, stage=DecisionStage.ANNUAL_PLAN, body=DecisionBody.CITY_GOVERNMENT,
                                outcome=DecisionOutcome.PASSED, action="approve_plan",
                                document_number=document_number, decided_on=decided_on, opinion=opinion,
                                reason=reason, recorded_by_id=ctx.actor.id))
    record_event(session, ctx, "project.plan_approve", object_type="annual_plan", object_id=plan.id,
                 after={"year": year, "document_number": document_number, "decided_on": decided_on.isoformat(),
                        "projects": len(planned), "refused": sorted(refused)}, detail=opinion or reason)
    for project in planned:
        no = project.id in refused
        _decide(session, ctx, project, "plan_refused" if no else "plan_approved", stage=DecisionStage.ANNUAL_PLAN,
                body=DecisionBody.CITY_GOVERNMENT, outcome=DecisionOutcome.REJECTED if no else DecisionOutcome.PASSED,
                document_number=document_number, decided_on=decided_on, opinion=opinion,
                reason=reason if no else "", plan=plan)
        words = "未获市政府审定" if no else "经市政府审定列入年度计划"
        _tell_department(session, settings, project, f"{words}：{project.name}",
                         f"“{project.name}”{words}（{document_number}）。下一步：可行性研究报告评审及立项（市发改委）。\n")
    session.commit()
    return plan


# --- outside decisions: 发改委 可研评审/立项 (第七条(四)) ------------------------------------------------

def record_feasibility(session, ctx, project_id, approved, document_number, decided_on, *, opinion="", reason="",
                       settings=None):
    """Record 发改委's feasibility review and 立项 (approved: with the approval's document number and
    date) or its refusal (with the reason)."""
    _require_bureau(ctx.actor)
    project = get_project(session, ctx.actor, project_id)
    if approved:
        document_number = _document(document_number, decided_on)

        def effects(p, _now):
            p.approval_document = document_number
            p.approval_date = decided_on
        _decide(session, ctx, project, "feasibility_approved", stage=DecisionStage.FEASIBILITY, body=DecisionBody.NDRC,
                outcome=DecisionOutcome.PASSED, document_number=document_number, decided_on=decided_on,
                opinion=opinion, reason=reason, effects=effects)
        _tell_department(session, settings, project, f"已立项：{project.name}",
                         f"市发改委批复立项（{document_number}）。请编制初步设计（实施方案）及投资概算并提交评审（第七条（五））。\n")
    else:
        reason = _require_text(reason, "reason", _l("Give the reason."))
        _decide(session, ctx, project, "feasibility_refused", stage=DecisionStage.FEASIBILITY, body=DecisionBody.NDRC,
                outcome=DecisionOutcome.REJECTED, document_number=(document_number or "").strip(),
                decided_on=decided_on if isinstance(decided_on, date) else None, opinion=opinion, reason=reason)
        _tell_department(session, settings, project, f"未予立项：{project.name}", f"{reason}\n")
    session.commit()
    return project


# --- 初步设计及概算评审 (第七条(五)(六)) ------------------------------------------------------------------

def submit_design(session, ctx, project_id, settings=None):
    """The department submits the preliminary design (implementation plan) and estimate for review."""
    project = get_project(session, ctx.actor, project_id)
    _require_owner(ctx.actor, project)
    missing = missing_documents(project, (DocumentPurpose.DESIGN,))
    if missing:
        raise ValidationFailed(_l("Upload the %(document)s first.", document=DOCUMENT_PURPOSE_LABELS[missing[0]]),
                               field="document")
    _decide(session, ctx, project, "submit_design", stage=DecisionStage.DESIGN_REVIEW, body=DecisionBody.DEPARTMENT,
            outcome=DecisionOutcome.SUBMITTED)
    _tell_bureau(session, settings, project, f"初步设计待评审：{project.name}",
                 f"{project.department.name}提交了“{project.name}”的初步设计（实施方案）及投资概算。\n")
    session.commit()
    return project


def record_design_review(session, ctx, project_id, passed, *, body, reviewer="", opinion="", reason="",
                         approved_estimate=None, approved_scope="", document_number="", decided_on=None,
                         settings=None):
    """Record the design and estimate review by experts or a third party (第七条(六)): passed with the
    approved estimate and scope (cloud resources may be requested from then on), or returned."""
    _require_bureau(ctx.actor)
    project = get_project(session, ctx.actor, project_id)
    if body not in (DecisionBody.EXPERT, DecisionBody.THIRD_PARTY):
        raise ValidationFailed(_l("Not a valid choice."), field="body")
    opinion = _require_text(opinion, "opinion", _l("Record the review opinion."))
    decided_on = decided_on if isinstance(decided_on, date) else None
    if passed:
        estimate = _amount(approved_estimate, "approved_estimate")
        scope = _require_text(approved_scope, "approved_scope")

        def effects(p, _now):
            p.approved_estimate = estimate
            p.approved_scope = scope
        _decide(session, ctx, project, "design_passed", stage=DecisionStage.DESIGN_REVIEW, body=body,
                outcome=DecisionOutcome.PASSED, reviewer=(reviewer or "").strip(), opinion=opinion, reason=reason,
                document_number=(document_number or "").strip(), decided_on=decided_on, effects=effects)
        _tell_department(session, settings, project, f"初步设计通过评审：{project.name}",
                         f"“{project.name}”通过初步设计及概算评审，批复概算{estimate}元。可提出政务云资源需求并依法招标采购（第七条（七））。\n")
    else:
        reason = _require_text(reason, "reason", _l("Give the reason."))
        _decide(session, ctx, project, "design_returned", stage=DecisionStage.DESIGN_REVIEW, body=body,
                outcome=DecisionOutcome.RETURNED, reviewer=(reviewer or "").strip(), opinion=opinion, reason=reason,
                document_number=(document_number or "").strip(), decided_on=decided_on)
        _tell_department(session, settings, project, f"初步设计需修改：{project.name}", f"{reason}\n")
    session.commit()
    return project


# --- procurement, construction, acceptance (第十条, 第十五条, 第十六条) --------------------------------------

def _owner_or_bureau(user, project):
    if user is not None and user.role == Role.BUREAU:
        return
    _require_owner(user, project)


def record_procurement(session, ctx, project_id, *, method, supplier, contract_amount, supervisor="",
                       procured_on=None, reason=""):
    """Record the procurement (method, winning supplier, contract amount, supervisor) of a project that
    passed the design review."""
    project = get_project(session, ctx.actor, project_id)
    _owner_or_bureau(ctx.actor, project)
    method = _require_text(method, "method")
    supplier = _require_text(supplier, "supplier")
    amount = _amount(contract_amount, "contract_amount")
    supervisor = (supervisor or "").strip()
    if len(method) > 32 or len(supplier) > 200 or len(supervisor) > 200:
        raise ValidationFailed(_l("Too long."), field="supplier")
    if not isinstance(procured_on, date):
        raise ValidationFailed(_l("Not a valid date."), field="procured_on")

    def effects(p, _now):
        p.procurement_method, p.supplier, p.contract_amount = method, supplier, amount
        p.supervisor, p.procured_on = supervisor, procured_on
    _decide(session, ctx, project, "record_procurement", stage=DecisionStage.PROCUREMENT,
            body=DecisionBody.BUREAU if ctx.actor.role == Role.BUREAU else DecisionBody.DEPARTMENT,
            outcome=DecisionOutcome.RECORDED, decided_on=procured_on, reason=reason,
            opinion=f"{method}；{supplier}；{amount}；{supervisor}", effects=effects)
    session.commit()
    return project


def start_construction(session, ctx, project_id):
    project = get_project(session, ctx.actor, project_id)
    _owner_or_bureau(ctx.actor, project)
    transition(session, ctx, PROJECTS, project, "start_construction")
    session.commit()
    return project


MILESTONE_STATES = (P.PROCURED, P.CONSTRUCTION, P.ACCEPTANCE, P.RECTIFICATION)


def add_milestone(session, ctx, project_id, title, planned_on=None, done_on=None, note=""):
    """A construction milestone (planned date, and when it is done)."""
    project = get_project(session, ctx.actor, project_id)
    _owner_or_bureau(ctx.actor, project)
    if project.state not in MILESTONE_STATES:
        raise WrongState(_l("Milestones are recorded during construction."))
    title = _require_text(title, "title")
    if len(title) > 200:
        raise ValidationFailed(_l("Too long."), field="title")
    milestone = ProjectMilestone(project_id=project.id, title=title, planned_on=planned_on, done_on=done_on,
                                 note=(note or "").strip(), recorded_by_id=ctx.actor.id)
    session.add(milestone)
    session.flush()
    record_event(session, ctx, "project.milestone", object_type="project", object_id=project.id,
                 department_id=project.department_id,
                 after={"milestone": milestone.id, "title": title,
                        "planned_on": planned_on.isoformat() if planned_on else None,
                        "done_on": done_on.isoformat() if done_on else None})
    session.commit()
    return milestone


def complete_milestone(session, ctx, project_id, milestone_id, done_on, note=""):
    project = get_project(session, ctx.actor, project_id)
    _owner_or_bureau(ctx.actor, project)
    milestone = session.get(ProjectMilestone, milestone_id)
    if milestone is None or milestone.project_id != project.id:
        raise NotFound(_l("Milestone"), milestone_id)
    if not isinstance(done_on, date):
        raise ValidationFailed(_l("Not a valid date."), field="done_on")
    before = {"done_on": milestone.done_on.isoformat() if milestone.done_on else None}
    milestone.done_on = done_on
    if note:
        milestone.note = note.strip()
    record_event(session, ctx, "project.milestone_done", object_type="project", object_id=project.id,
                 department_id=project.department_id, before=before,
                 after={"milestone": milestone.id, "done_on": done_on.isoformat()})
    session.commit()
    return milestone


def request_acceptance(session, ctx, project_id, note="", settings=None):
    """The department asks for acceptance (after construction, or after the rectification)."""
    project = get_project(session, ctx.actor, project_id)
    _require_owner(ctx.actor, project)
    again = project.state == P.RECTIFICATION
    _decide(session, ctx, project, "request_acceptance", stage=DecisionStage.ACCEPTANCE, body=DecisionBody.DEPARTMENT,
            outcome=DecisionOutcome.SUBMITTED, reason=(note or "").strip())
    _tell_bureau(session, settings, project, f"{'申请重新验收' if again else '申请验收'}：{project.name}",
                 f"{project.department.name}申请对“{project.name}”{'重新' if again else ''}验收。\n")
    session.commit()
    return project


def record_acceptance(session, ctx, project_id, passed, held_on, *, opinion="", rectification_items="",
                      rectification_deadline=None, document_number="", settings=None):
    """The bureau's acceptance (第十四条): passed (in use; warranty of at least three years from this day,
    第十六条) or rectification with its items and deadline, then a re-acceptance (第十五条)."""
    _require_bureau(ctx.actor)
    project = get_project(session, ctx.actor, project_id)
    if not isinstance(held_on, date):
        raise ValidationFailed(_l("Not a valid date."), field="held_on")
    opinion = _require_text(opinion, "opinion", _l("Record the acceptance opinion."))
    round_ = 1 + (session.scalar(select(func.max(ProjectAcceptance.round))
                                 .where(ProjectAcceptance.project_id == project.id)) or 0)
    if passed:
        outcome, action, items, deadline = AcceptanceOutcome.PASSED, "accept", "", None
    else:
        items = _require_text(rectification_items, "rectification_items", _l("List what must be rectified."))
        if not isinstance(rectification_deadline, date) or rectification_deadline <= held_on:
            raise ValidationFailed(_l("Set a rectification deadline after the acceptance day."),
                                   field="rectification_deadline")
        outcome, action, deadline = AcceptanceOutcome.RECTIFICATION, "require_rectification", rectification_deadline

    def effects(p, _now):
        if passed:
            p.accepted_on = held_on
            p.warranty_ends_on = add_years(held_on, max(p.warranty_years, 3))
    decision = _decide(session, ctx, project, action, stage=DecisionStage.ACCEPTANCE, body=DecisionBody.BUREAU,
                       outcome=DecisionOutcome.PASSED if passed else DecisionOutcome.RECTIFICATION,
                       document_number=(document_number or "").strip(), decided_on=held_on, opinion=opinion,
                       reason=items, effects=effects)
    acceptance = ProjectAcceptance(project_id=project.id, round=round_, outcome=outcome, held_on=held_on,
                                   opinion=opinion, rectification_items=items, rectification_deadline=deadline,
                                   document_number=(document_number or "").strip(), decision_id=decision.id,
                                   recorded_by_id=ctx.actor.id)
    session.add(acceptance)
    if passed:
        _tell_department(session, settings, project, f"验收合格：{project.name}",
                         f"“{project.name}”验收合格，可交付使用；保修期至{project.warranty_ends_on}（第十六条）。\n")
    else:
        _tell_department(session, settings, project, f"验收不合格，限期整改：{project.name}",
                         f"整改意见：{items}\n整改期限：{deadline}（第十五条）。整改后请申请重新验收。\n")
    session.commit()
    return acceptance


# --- systems and the gate (第七条(七), 第九条, 第十五条) ---------------------------------------------------

def mark_in_use(session, ctx, system_id):
    """The department marks a system in use (正式运行): only after its project passed acceptance
    (第十五条: 未经验收或者验收不合格的，不得交付使用)."""
    system = get_request(session, ctx.actor, system_id)
    if ctx.actor.role != Role.DEPARTMENT or ctx.actor.department_id != system.department_id:
        raise Forbidden()
    if system.kind != RequestKind.NEW or system.in_use_at is not None:
        raise WrongState(_l("Only a system not yet in use can be marked in use."))
    if system_status(session, system.id) != "live":
        raise WrongState(_l("Only a system whose resources are provisioned can be marked in use."))
    if system.project is not None and system.project.state not in ACCEPTED:
        raise WrongState(_l("The system's project has not passed acceptance: the system stays in trial operation "
                            "(article 15)."))
    system.in_use_at = utcnow()
    record_event(session, ctx, "request.in_use", object_type="resource_request", object_id=system.id,
                 department_id=system.department_id,
                 after={"in_use_at": system.in_use_at.isoformat(), "project_id": system.project_id})
    session.commit()
    return system
