"""Emergency plans (应急预案) and drills (应急演练), 第二十三条 and 第六条(四).

The platform's overall plan is the vendor's to write, each department writes a plan per system
within its framework; every plan is a series of versions (scenario, roles, steps, RTO and RPO, the
document), each approved by the bureau (PLAN_VERSIONS). A plan in force is drilled at least every
`drill_interval_months`: drills are scheduled on a yearly calendar, started, their steps recorded on
a timeline, optionally a real restore of a backup through the backup engine (its measured time
against the RTO, the backup's age against the RPO), finished with the result and the problems
found; follow-up actions are tracked until each is closed, and the drill with them (DRILLS).
`send_reminders` (scheduler job drill_reminders) flags what is late, once each.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..database import utcnow
from ..errors import NotFound, ValidationFailed, WrongState
from ..models.accounts import Role
from ..models.backups import ArtifactStatus, BackupArtifact, RestoreJob, RestoreState
from ..models.duties import (DRILL_DONE_STATES, DRILL_STATE_LABELS, FOLLOW_UP_STATE_LABELS, PLAN_VERSION_STATE_LABELS,
                             Drill, DrillFollowUp, DrillResult, DrillState, DrillStep, EmergencyPlan,
                             EmergencyPlanVersion, FollowUpState, PlanScope, PlanVersionState, StepOutcome)
from ..models.requests import RequestKind, ResourceRequest
from ..pagination import paginate
from ..scoping import get_scoped, scoped
from ..statemachine import StateMachine
from ..text import _l
from ..workdays import CHINA
from . import backups
from .audit import record_event
from .duties_common import (act, add_months, clean, document_path, notify_bureau, notify_owner, remove_quietly,
                            require_role, store_document, today)
from .rectifications import flag_overdue as flag_rectifications
from .transitions import lock

PV, DS, FS = PlanVersionState, DrillState, FollowUpState
PLAN_VERSIONS = StateMachine("emergency_plan", "emergency_plan_version", {
    (PV.DRAFT, "submit"): PV.SUBMITTED,
    (PV.RETURNED, "submit"): PV.SUBMITTED,
    (PV.SUBMITTED, "approve"): PV.APPROVED,
    (PV.SUBMITTED, "return"): PV.RETURNED,
    (PV.APPROVED, "supersede"): PV.SUPERSEDED,
}, PLAN_VERSION_STATE_LABELS, kind=_l("emergency plan"), stamps={PV.SUBMITTED: "submitted_at",
                                                                 PV.APPROVED: "approved_at"}, snapshots=True)
DRILLS = StateMachine("drill", "drill", {
    (DS.SCHEDULED, "start"): DS.RUNNING,
    (DS.SCHEDULED, "cancel"): DS.CANCELLED,
    (DS.RUNNING, "finish"): DS.COMPLETED,
    (DS.COMPLETED, "close"): DS.CLOSED,
}, DRILL_STATE_LABELS, kind=_l("drill"), stamps={DS.RUNNING: "started_at"}, changed_at="changed_at",
    snapshots=True)
FOLLOW_UPS = StateMachine("drill_follow_up", "drill_follow_up", {(FS.OPEN, "close"): FS.CLOSED},
                          FOLLOW_UP_STATE_LABELS, kind=_l("follow-up action"), stamps={FS.CLOSED: "closed_at"},
                          snapshots=True)
EDITABLE_VERSIONS = (PV.DRAFT, PV.RETURNED)
DECIDERS = (Role.BUREAU,)
MAX_ROLES, MAX_STEPS, MAX_PARTICIPANTS = 30, 60, 60
REMIND_DAYS = 7  # a scheduled drill is announced to its owner this many days ahead


def _link(kind, ident):
    return f"/duties/{kind}/{ident}"


# -- who acts -----------------------------------------------------------------------------------

def owner_roles(plan):
    """The role that writes and drills plan: the vendor the platform's, the department its own."""
    return (Role.VENDOR,) if plan.scope == PlanScope.PLATFORM else (Role.DEPARTMENT,)


def is_owner(user, plan):
    if user.role not in owner_roles(plan):
        return False
    return plan.scope == PlanScope.PLATFORM or user.department_id == plan.department_id


def _require_owner(user, plan):
    require_role(user, owner_roles(plan))
    if not is_owner(user, plan):
        require_role(None, ())


def can_schedule(user, plan):
    return is_owner(user, plan) or user.role == Role.BUREAU


# -- plans and their versions -------------------------------------------------------------------

def list_plans(session, user, *, page=1, per_page=20):
    stmt = scoped(select(EmergencyPlan), user).order_by(EmergencyPlan.scope, EmergencyPlan.department_id,
                                                        EmergencyPlan.id)
    return paginate(session, stmt, page, per_page)


def get_plan(session, user, plan_id):
    return get_scoped(session, EmergencyPlan, plan_id, user, kind=_l("Emergency plan"))


def get_version(session, user, plan_id, version_id):
    plan = get_plan(session, user, plan_id)
    version = next((v for v in plan.versions if v.id == version_id), None)
    if version is None:
        raise NotFound(_l("Plan version"), version_id)
    return plan, version


def system_choices(session, user):
    """The systems a department user may write a plan for: its department's approved systems."""
    if user.role != Role.DEPARTMENT:
        return []
    return list(session.scalars(select(ResourceRequest).where(
        ResourceRequest.department_id == user.department_id, ResourceRequest.kind == RequestKind.NEW,
        ResourceRequest.approved_at.is_not(None)).order_by(ResourceRequest.id)))


def _content(version, data):
    """Set a version's content from data (scenario, roles, steps, rto_minutes, rpo_minutes)."""
    version.scenario = clean(data.get("scenario"), "scenario", limit=8000)
    roles = [{"role": clean(r.get("role"), "roles", limit=120), "duty": clean(r.get("duty"), "roles", limit=500)}
             for r in (data.get("roles") or []) if (r.get("role") or "").strip()]
    steps = [clean(s, "steps", limit=500) for s in (data.get("steps") or []) if (s or "").strip()]
    if not roles or len(roles) > MAX_ROLES:
        raise ValidationFailed(_l("Name between 1 and %(n)d roles and their duties.", n=MAX_ROLES), field="roles")
    if not steps or len(steps) > MAX_STEPS:
        raise ValidationFailed(_l("List between 1 and %(n)d steps.", n=MAX_STEPS), field="steps")
    version.roles, version.steps = roles, steps
    for name, low in (("rto_minutes", 1), ("rpo_minutes", 0)):
        value = data.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 100000:
            raise ValidationFailed(_l("Enter minutes between %(low)d and 100000.", low=low), field=name)
        setattr(version, name, value)


def create_plan(session, ctx, data):
    """A department user opens its plan for one of its systems, the vendor the platform's plan;
    with the first version (a draft). Audited, committed."""
    user = ctx.actor
    require_role(user, (Role.DEPARTMENT, Role.VENDOR))
    title = clean(data.get("title"), "title", limit=200)
    interval = data.get("drill_interval_months")
    if not isinstance(interval, int) or isinstance(interval, bool) or not 1 <= interval <= 36:
        raise ValidationFailed(_l("Enter a whole number of months between 1 and 36."), field="drill_interval_months")
    if user.role == Role.VENDOR:
        plan = EmergencyPlan(scope=PlanScope.PLATFORM, department_id=None, system_id=None)
    else:
        systems = {s.id: s for s in system_choices(session, user)}
        if data.get("system_id") not in systems:
            raise ValidationFailed(_l("Choose a system of your department."), field="system_id")
        plan = EmergencyPlan(scope=PlanScope.SYSTEM, department_id=user.department_id, system_id=data["system_id"])
    plan.title, plan.drill_interval_months, plan.created_by_id = title, interval, user.id
    version = EmergencyPlanVersion(number=1, state=PV.DRAFT, department_id=plan.department_id,
                                   created_by_id=user.id)
    _content(version, data)
    plan.versions.append(version)
    session.add(plan)
    session.flush()
    record_event(session, ctx, "emergency_plan.create", object_type="emergency_plan", object_id=plan.id,
                 department_id=plan.department_id, after={**plan.snapshot(), "version": version.snapshot()})
    session.commit()
    return plan


def edit_version(session, ctx, plan_id, version_id, data, document=None, upload_dir=None):
    """The owner changes a draft (or returned) version; document: (filename, stream). Committed."""
    plan, version = get_version(session, ctx.actor, plan_id, version_id)
    _require_owner(ctx.actor, plan)
    version = lock(session, version)
    if version.state not in EDITABLE_VERSIONS:
        raise WrongState(_l("Only a draft or a returned version can be changed."))
    before = version.snapshot()
    _content(version, data)
    path = store_document(version, document[0], document[1], upload_dir) if document else None
    try:
        session.flush()
        record_event(session, ctx, "emergency_plan.edit", object_type="emergency_plan_version", object_id=version.id,
                     department_id=plan.department_id, before=before, after=version.snapshot())
        session.commit()
    except Exception:
        remove_quietly(path)
        raise
    return version


def new_version(session, ctx, plan_id):
    """The owner starts the next version from the latest (a revision, 预案修订). Committed."""
    plan = lock(session, get_plan(session, ctx.actor, plan_id))
    _require_owner(ctx.actor, plan)
    latest = plan.latest_version
    if latest.state in EDITABLE_VERSIONS + (PV.SUBMITTED,):
        raise WrongState(_l("Version %(n)d is still open: change or submit that one.", n=latest.number))
    version = EmergencyPlanVersion(
        number=latest.number + 1, state=PV.DRAFT, department_id=plan.department_id, created_by_id=ctx.actor.id,
        scenario=latest.scenario, roles=list(latest.roles), steps=list(latest.steps),
        rto_minutes=latest.rto_minutes, rpo_minutes=latest.rpo_minutes)
    plan.versions.append(version)
    session.flush()
    record_event(session, ctx, "emergency_plan.new_version", object_type="emergency_plan_version",
                 object_id=version.id, department_id=plan.department_id, after=version.snapshot())
    session.commit()
    return version


def submit_version(session, ctx, plan_id, version_id, settings=None):
    plan, version = get_version(session, ctx.actor, plan_id, version_id)
    _require_owner(ctx.actor, plan)
    act(session, ctx, PLAN_VERSIONS, version, "submit", owner_roles(plan))
    _tell_bureau(session, settings, plan, version)
    session.commit()
    return version


def _owner_name(plan):
    return plan.department.name if plan.department is not None else "云服务商"


def _tell_bureau(session, settings, plan, version):
    return notify_bureau(session, settings, plan.department_id,
                         subject=f"[政务云] 应急预案待审批：{plan.title}（第{version.number}版）",
                         body=f"{_owner_name(plan)}提交了应急预案“{plan.title}”第{version.number}版，请审批。\n",
                         topic=f"emergency_plan:{plan.id}", link=_link("plans", plan.id))


def decide_version(session, ctx, plan_id, version_id, decision, note="", settings=None):
    """The bureau approves (the version is in force, the one before superseded) or returns it with a
    reason; the owner is told. Committed."""
    if decision not in ("approve", "return"):
        raise ValidationFailed(_l("Choose approve or return."), field="decision")
    plan, version = get_version(session, ctx.actor, plan_id, version_id)
    previous = plan.approved_version

    def decided(obj, now):
        obj.decided_at, obj.decided_by_id = now, ctx.actor.id
        obj.decision_note = (note or "").strip()
    act(session, ctx, PLAN_VERSIONS, version, decision, DECIDERS, note=note, note_required=decision == "return",
        effects=decided)
    if decision == "approve" and previous is not None and previous.id != version.id:
        act(session, ctx, PLAN_VERSIONS, previous, "supersede", DECIDERS,
            note=f"第{version.number}版批准后失效")
    word = "已批准" if decision == "approve" else "被退回"
    notify_owner(session, settings, plan.department_id,
                 subject=f"[政务云] 应急预案{word}：{plan.title}（第{version.number}版）",
                 body=f"应急预案“{plan.title}”第{version.number}版{word}。" + (f"\n意见：{note}\n" if note else "\n"),
                 topic=f"emergency_plan:{plan.id}", link=_link("plans", plan.id))
    session.commit()
    return version


def version_document(session, user, plan_id, version_id, upload_dir):
    plan, version = get_version(session, user, plan_id, version_id)
    return version, document_path(version, upload_dir, _l("Plan document"))


# -- drills ---------------------------------------------------------------------------------------

def list_drills(session, user, *, year=None, plan_id=None):
    """The drills user may see (a year of the calendar by their day; a plan's), by day."""
    stmt = scoped(select(Drill), user).order_by(Drill.scheduled_for, Drill.id)
    if year is not None:
        stmt = stmt.where(Drill.scheduled_for >= datetime(year, 1, 1).date(),
                          Drill.scheduled_for <= datetime(year, 12, 31).date())
    if plan_id is not None:
        stmt = stmt.where(Drill.plan_id == plan_id)
    return list(session.scalars(stmt))


def get_drill(session, user, drill_id):
    return get_scoped(session, Drill, drill_id, user, kind=_l("Drill"))


def schedulable_plans(session, user):
    return [p for p in session.scalars(scoped(select(EmergencyPlan), user).order_by(EmergencyPlan.id))
            if can_schedule(user, p)]


def schedule_drill(session, ctx, data, settings=None, now=None):
    """The plan's owner (or the bureau) puts a drill on the calendar: plan, day, title, scenario.
    The owner is told. Committed."""
    user = ctx.actor
    plan_id = data.get("plan_id")
    if not isinstance(plan_id, int):
        raise ValidationFailed(_l("Choose a plan."), field="plan_id")
    plan = get_plan(session, user, plan_id)
    if not can_schedule(user, plan):
        require_role(None, ())
    day = data.get("scheduled_for")
    if day is None or not hasattr(day, "year"):
        raise ValidationFailed(_l("Enter the day of the drill."), field="scheduled_for")
    if isinstance(day, datetime):
        day = day.date()
    if not today(now) <= day <= add_months(today(now), 24):
        raise ValidationFailed(_l("A drill is scheduled from today up to two years ahead."), field="scheduled_for")
    drill = Drill(plan_id=plan.id, department_id=plan.department_id, scheduled_for=day, state=DS.SCHEDULED,
                  title=clean(data.get("title"), "title", limit=200),
                  scenario=clean(data.get("scenario"), "scenario", required=False, limit=4000),
                  created_by_id=user.id)
    session.add(drill)
    session.flush()
    record_event(session, ctx, "drill.schedule", object_type="drill", object_id=drill.id,
                 department_id=drill.department_id, after=drill.snapshot())
    if user.role == Role.BUREAU:
        notify_owner(session, settings, plan.department_id, subject=f"[政务云] 应急演练已排期：{drill.title}",
                     body=f"市大数据管理局安排了应急演练“{drill.title}”（预案：{plan.title}），日期：{day}。\n",
                     topic=f"drill:{drill.id}", link=_link("drills", drill.id))
    session.commit()
    return drill


def _drill_for_owner(session, ctx, drill_id, *states):
    drill = get_drill(session, ctx.actor, drill_id)
    _require_owner(ctx.actor, drill.plan)
    if states and drill.state not in states:
        raise WrongState(_l("This action is not possible while the drill is %(state)s.",
                            state=DRILL_STATE_LABELS[drill.state]))
    return drill


def start_drill(session, ctx, drill_id, participants=(), now=None):
    """The owner starts a drill of a plan in force: the version and its RTO/RPO are recorded."""
    drill = _drill_for_owner(session, ctx, drill_id)
    version = drill.plan.approved_version
    if version is None:
        raise WrongState(_l("The plan has no approved version yet: a drill follows a plan in force."))
    names = _participants(participants)

    def started(obj, _now):
        obj.plan_version_id, obj.rto_minutes, obj.rpo_minutes = version.id, version.rto_minutes, version.rpo_minutes
        if names:
            obj.participants = names
    act(session, ctx, DRILLS, drill, "start", owner_roles(drill.plan), effects=started)
    session.commit()
    return drill


def cancel_drill(session, ctx, drill_id, note, settings=None):
    """The owner or the bureau cancels a scheduled drill (with the reason)."""
    drill = get_drill(session, ctx.actor, drill_id)
    if not can_schedule(ctx.actor, drill.plan):
        require_role(None, ())
    act(session, ctx, DRILLS, drill, "cancel", (Role.BUREAU,) + owner_roles(drill.plan), note=note,
        note_required=True)
    session.commit()
    return drill


def _participants(values):
    names = [clean(v, "participants", limit=120) for v in (values or []) if str(v or "").strip()]
    if len(names) > MAX_PARTICIPANTS:
        raise ValidationFailed(_l("At most %(n)d participants.", n=MAX_PARTICIPANTS), field="participants")
    return names


def _aware(value, field):
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationFailed(_l("Enter a time in Beijing time."), field=field)
    return value


def add_step(session, ctx, drill_id, data, now=None):
    """The owner records one step of a running drill on its timeline (when, what, who, how it went)."""
    drill = lock(session, _drill_for_owner(session, ctx, drill_id))
    if drill.state != DS.RUNNING:
        raise WrongState(_l("Steps are recorded while the drill runs."))
    now = now or utcnow()
    at = _aware(data.get("at"), "at") or now
    if at < drill.started_at - timedelta(minutes=1) or at > now + timedelta(minutes=5):
        raise ValidationFailed(_l("A step happens between the drill's start and now."), field="at")
    outcome = data.get("outcome") or StepOutcome.OK
    if outcome not in set(StepOutcome):
        raise ValidationFailed(_l("Choose how the step went."), field="outcome")
    step = DrillStep(drill_id=drill.id, at=at, title=clean(data.get("title"), "title", limit=200),
                     actor=clean(data.get("actor"), "actor", required=False, limit=120), outcome=outcome,
                     note=clean(data.get("note"), "note", required=False, limit=2000), recorded_by_id=ctx.actor.id)
    return _added(session, ctx, drill, drill.steps, step, "drill.step", "drill")


def _added(session, ctx, drill, rows, row, action, object_type):
    """Add row to one of drill's lists, audit it (the drill's or its own id), commit; return it."""
    rows.append(row)
    session.flush()
    record_event(session, ctx, action, object_type=object_type,
                 object_id=drill.id if object_type == "drill" else row.id, department_id=drill.department_id,
                 after=row.snapshot())
    session.commit()
    return row


def restore_choices(session, user, drill):
    """The available backups a drill may restore: its department's, its plan's system first."""
    if drill.department_id is None:
        return []
    stmt = scoped(select(BackupArtifact), user).where(BackupArtifact.department_id == drill.department_id,
                                                      BackupArtifact.status == ArtifactStatus.AVAILABLE)
    rows = list(session.scalars(stmt.order_by(BackupArtifact.created_at.desc()).limit(50)))
    return sorted(rows, key=lambda a: a.system_id != drill.plan.system_id)


def start_restore(session, ctx, cloud, drill_id, artifact_id, mode, *, target_name="", settings=None):
    """A running drill restores a real backup through the backup engine (第十九条: at once; the
    vendor only under a live grant); the restore goes on the timeline. One restore per drill."""
    drill = lock(session, _drill_for_owner(session, ctx, drill_id, DS.RUNNING))
    if drill.restore_job_id is not None:
        raise WrongState(_l("This drill has already restored a backup."))
    artifact = backups.get_artifact(session, ctx.actor, artifact_id)
    if artifact.department_id != drill.department_id:
        raise ValidationFailed(_l("Choose a backup of the drill's department."), field="artifact_id")
    session.commit()  # the engine commits as it goes
    job = backups.start_restore(session, ctx, cloud, artifact.id, mode, reason=f"应急演练：{drill.title}",
                                target_name=target_name, settings=settings)
    drill = lock(session, drill)
    if drill.restore_job_id is not None:  # a second restore started at the same moment: keep the first
        raise WrongState(_l("This drill has already restored a backup."))
    drill.restore_job_id = job.id
    step = DrillStep(drill_id=drill.id, at=job.started_at or utcnow(), kind="restore", actor=ctx.actor.username,
                     outcome=StepOutcome.NOTE, title=f"从备份恢复：{artifact.name}",
                     note=f"恢复任务 {job.id}，方式 {job.mode}", recorded_by_id=ctx.actor.id)
    drill.steps.append(step)
    session.flush()
    record_event(session, ctx, "drill.restore_start", object_type="drill", object_id=drill.id,
                 department_id=drill.department_id, after={"restore_job_id": job.id, "artifact_id": artifact.id,
                                                           "mode": job.mode})
    session.commit()
    record_restore(session, ctx, drill)  # a restore the cloud refused at once is over already
    return drill, job


RESTORE_OVER = (RestoreState.SUCCEEDED, RestoreState.FAILED)


def record_restore(session, ctx, drill):
    """When the drill's restore is over, record its measured time against the RTO and the backup's
    age against the RPO, and put the outcome on the timeline (once). Returns True when recorded."""
    if drill.restore_job_id is None or drill.rto_met is not None:
        return False
    job = session.get(RestoreJob, drill.restore_job_id)
    if job is None or job.state not in RESTORE_OVER:
        return False
    drill = lock(session, drill)
    if drill.rto_met is not None:
        return False
    succeeded = job.state == RestoreState.SUCCEEDED
    seconds = job.duration_seconds if job.duration_seconds is not None else 0.0
    age = (job.started_at - job.artifact.created_at).total_seconds() / 60 if job.started_at else None
    drill.restore_seconds = round(seconds, 1) if succeeded else None
    drill.backup_age_minutes = round(age, 1) if age is not None else None
    drill.rto_met = bool(succeeded and drill.rto_minutes is not None and seconds <= drill.rto_minutes * 60)
    drill.rpo_met = bool(age is not None and drill.rpo_minutes is not None and age <= drill.rpo_minutes) \
        if succeeded else False
    if succeeded:
        title = f"恢复完成，用时 {seconds:.1f} 秒（恢复时间目标 {drill.rto_minutes} 分钟）"
    else:
        title = f"恢复失败：{job.error_message or job.error_detail[:150]}"
    drill.steps.append(DrillStep(
        drill_id=drill.id, at=job.finished_at or utcnow(), kind="restore", actor="备份引擎",
        outcome=StepOutcome.OK if drill.rto_met and drill.rpo_met else StepOutcome.PROBLEM, title=title[:200],
        note=f"备份时间距恢复开始 {drill.backup_age_minutes} 分钟（恢复点目标 {drill.rpo_minutes} 分钟）"
        if age is not None else ""))
    session.flush()
    record_event(session, ctx, "drill.restore_recorded", object_type="drill", object_id=drill.id,
                 department_id=drill.department_id,
                 after={"restore_job_id": job.id, "restore_state": job.state, "restore_seconds": drill.restore_seconds,
                        "backup_age_minutes": drill.backup_age_minutes, "rto_met": drill.rto_met,
                        "rpo_met": drill.rpo_met})
    session.commit()
    return True


def finish_drill(session, ctx, drill_id, data, settings=None, now=None):
    """The owner ends a running drill: participants, result, summary, problems found; the end now
    (or as given). A drill whose restore still runs cannot end. With no follow-up it is closed at once."""
    drill = _drill_for_owner(session, ctx, drill_id, DS.RUNNING)
    record_restore(session, ctx, drill)
    if drill.restore_job_id is not None and drill.rto_met is None:
        raise WrongState(_l("The drill's restore is still running: end the drill when it is over."))
    result = data.get("result")
    if result not in set(DrillResult):
        raise ValidationFailed(_l("Choose the drill's result."), field="result")
    participants = _participants(data.get("participants") or drill.participants)
    if not participants:
        raise ValidationFailed(_l("Name the participants."), field="participants")
    summary = clean(data.get("summary"), "summary", limit=8000)
    problems = clean(data.get("problems"), "problems", required=result != DrillResult.PASSED, limit=8000)
    now = now or utcnow()
    ended = _aware(data.get("ended_at"), "ended_at") or now
    if ended < drill.started_at or ended > now + timedelta(minutes=5):
        raise ValidationFailed(_l("The end lies between the drill's start and now."), field="ended_at")

    def finished(obj, _now):
        obj.ended_at, obj.result, obj.summary, obj.problems, obj.participants = (ended, result, summary, problems,
                                                                                 participants)
    act(session, ctx, DRILLS, drill, "finish", owner_roles(drill.plan), effects=finished)
    _tell_bureau_of_drill(session, settings, drill)
    session.commit()
    return drill


RESULT_ZH = {DrillResult.PASSED: "达到预期", DrillResult.PARTIAL: "部分达到", DrillResult.FAILED: "未达到"}


def _drill_text(drill):
    lines = [f"演练：{drill.title}", f"结果：{RESULT_ZH[drill.result]}"]
    if drill.restore_seconds is not None:
        lines.append(f"实测恢复用时：{drill.restore_seconds} 秒（目标 {drill.rto_minutes} 分钟）")
    if drill.problems:
        lines.append(f"发现的问题：{drill.problems}")
    return "\n".join(lines) + "\n"


def _tell_bureau_of_drill(session, settings, drill):
    return notify_bureau(session, settings, drill.department_id, subject=f"[政务云] 应急演练已完成：{drill.title}",
                         body=_drill_text(drill), topic=f"drill:{drill.id}", link=_link("drills", drill.id))


def add_follow_up(session, ctx, drill_id, data, now=None):
    """The owner or the bureau records a follow-up action of a drill (what, who, by when)."""
    drill = get_drill(session, ctx.actor, drill_id)
    if not can_schedule(ctx.actor, drill.plan):
        require_role(None, ())
    drill = lock(session, drill)
    if drill.state not in (DS.RUNNING, DS.COMPLETED):
        raise WrongState(_l("Follow-up actions belong to a drill that ran and is not closed."))
    due = data.get("due_date")
    if due is None or not hasattr(due, "year") or due < today(now):
        raise ValidationFailed(_l("Enter a due day from today on."), field="due_date")
    item = DrillFollowUp(drill_id=drill.id, department_id=drill.department_id, due_date=due,
                         description=clean(data.get("description"), "description", limit=2000),
                         owner=clean(data.get("owner"), "owner", required=False, limit=120))
    return _added(session, ctx, drill, drill.follow_ups, item, "drill.follow_up", "drill_follow_up")


def close_follow_up(session, ctx, drill_id, follow_up_id, note, settings=None):
    """The owner closes a follow-up with what was done; the last one closes the completed drill."""
    drill = _drill_for_owner(session, ctx, drill_id)
    item = next((f for f in drill.follow_ups if f.id == follow_up_id), None)
    if item is None:
        raise NotFound(_l("Follow-up action"), follow_up_id)
    note = clean(note, "note", limit=2000)

    def closed(obj, now):
        obj.closing_note, obj.closed_by_id = note, ctx.actor.id
    act(session, ctx, FOLLOW_UPS, item, "close", owner_roles(drill.plan), note=note, effects=closed)
    _close_if_done(session, ctx, drill)
    session.commit()
    return item


def _close_if_done(session, ctx, drill):
    if drill.state == DS.COMPLETED and not drill.open_follow_ups:
        act(session, ctx, DRILLS, drill, "close", owner_roles(drill.plan), note="整改措施已全部完成")


def close_drill(session, ctx, drill_id):
    """The owner closes a completed drill without open follow-ups (none were needed)."""
    drill = _drill_for_owner(session, ctx, drill_id, DS.COMPLETED)
    if drill.open_follow_ups:
        raise WrongState(_l("Close the open follow-up actions first."))
    _close_if_done(session, ctx, drill)
    session.commit()
    return drill


# -- what is late -----------------------------------------------------------------------------

@dataclass
class PlanDue:
    plan: EmergencyPlan
    last_drill: object  # the end of the last drill done, or None
    due: object         # the day by which the next drill must be done


def plan_dues(session, user=None, now=None):
    """For each plan in force: its last drill and the day the next one is due (the last drill's day,
    or the first approval, plus the plan's interval)."""
    stmt = select(EmergencyPlan) if user is None else scoped(select(EmergencyPlan), user)
    plans = list(session.scalars(stmt.order_by(EmergencyPlan.id)))
    last = dict(session.execute(select(Drill.plan_id, func.max(Drill.ended_at)).where(
        Drill.state.in_(DRILL_DONE_STATES)).group_by(Drill.plan_id)).all())
    out = []
    for plan in plans:
        approvals = [v.approved_at for v in plan.versions if v.approved_at is not None]
        if plan.approved_version is None or not approvals:
            continue
        base = last.get(plan.id) or min(approvals)
        out.append(PlanDue(plan, last.get(plan.id), add_months(base.astimezone(CHINA).date(),
                                                               plan.drill_interval_months)))
    return out


def overdue(session, user=None, now=None):
    """What is late today (Beijing): plans without a drill in their interval, scheduled drills past
    their day, open follow-ups past their due day."""
    day = today(now)
    plans = [d for d in plan_dues(session, user, now) if d.due < day]

    def visible(stmt):
        return stmt if user is None else scoped(stmt, user)
    drills = list(session.scalars(visible(select(Drill)).where(Drill.state == DS.SCHEDULED,
                                                               Drill.scheduled_for < day).order_by(Drill.scheduled_for)))
    follow_ups = list(session.scalars(visible(select(DrillFollowUp)).where(
        DrillFollowUp.state == FS.OPEN, DrillFollowUp.due_date < day).order_by(DrillFollowUp.due_date)))
    return {"plans": plans, "drills": drills, "follow_ups": follow_ups}


def record_restores(session, ctx):
    """Record every drill restore that ended since (the job catches what no page recorded)."""
    drills = list(session.scalars(select(Drill).join(RestoreJob, Drill.restore_job_id == RestoreJob.id).where(
        Drill.rto_met.is_(None), RestoreJob.state.in_(RESTORE_OVER))))
    return sum(record_restore(session, ctx, d) for d in drills)


def send_reminders(session, ctx, settings, now=None):
    """The drill_reminders job: record ended drill restores; announce drills coming within
    REMIND_DAYS; flag, once each, drills past their day, plans without a drill in their interval,
    follow-ups and rectifications past their due day. Returns the figures."""
    now = now or utcnow()
    day = today(now)
    figures = {"restores_recorded": record_restores(session, ctx)}
    coming = list(session.scalars(select(Drill).where(
        Drill.state == DS.SCHEDULED, Drill.reminded_at.is_(None), Drill.scheduled_for >= day,
        Drill.scheduled_for <= day + timedelta(days=REMIND_DAYS))))
    for drill in coming:
        drill.reminded_at = now
        notify_owner(session, settings, drill.department_id, subject=f"[政务云] 应急演练即将进行：{drill.title}",
                     body=f"应急演练“{drill.title}”（预案：{drill.plan.title}）定于 {drill.scheduled_for} 进行。\n",
                     topic=f"drill:{drill.id}", link=_link("drills", drill.id))
    figures["drills_reminded"] = len(coming)
    late = overdue(session, None, now)
    fresh = [d for d in late["drills"] if d.overdue_flagged_at is None]
    for drill in fresh:
        drill.overdue_flagged_at = now
        notify_owner(session, settings, drill.department_id, subject=f"[政务云] 应急演练逾期未进行：{drill.title}",
                     body=f"应急演练“{drill.title}”原定于 {drill.scheduled_for} 进行，至今未开始。\n",
                     topic=f"drill:{drill.id}", link=_link("drills", drill.id), bureau=True)
    figures["drills_overdue"] = len(fresh)
    plans = [d for d in late["plans"] if d.plan.overdue_flagged_for != d.due]
    for due in plans:
        due.plan.overdue_flagged_for = due.due
        notify_owner(session, settings, due.plan.department_id,
                     subject=f"[政务云] 应急预案逾期未演练：{due.plan.title}",
                     body=f"应急预案“{due.plan.title}”应每 {due.plan.drill_interval_months} 个月演练一次，"
                          f"最迟应于 {due.due} 前完成演练，至今未完成。\n",
                     topic=f"emergency_plan:{due.plan.id}", link=_link("plans", due.plan.id), bureau=True)
    figures["plans_overdue"] = len(plans)
    items = [f for f in late["follow_ups"] if f.overdue_flagged_at is None]
    for item in items:
        item.overdue_flagged_at = now
        notify_owner(session, settings, item.department_id, subject=f"[政务云] 演练整改措施逾期：{item.drill.title}",
                     body=f"演练“{item.drill.title}”的整改措施“{item.description}”应于 {item.due_date} 前完成。\n",
                     topic=f"drill:{item.drill_id}", link=_link("drills", item.drill_id))
    figures["follow_ups_overdue"] = len(items)
    figures["rectifications_overdue"] = flag_rectifications(session, settings, now)
    session.commit()
    return figures

