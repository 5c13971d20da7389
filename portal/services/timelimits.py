"""Time limits (办理时限, issue 17): how many working days each step may take, which steps are open,
when each is due, and the reminders before and escalations after that the scheduler sends.

A step, who acts and when it began:
    review        the bureau reviews a submitted request        since it was (last) submitted
    provisioning  the vendor provisions an approved request     since it was approved (or green-channelled)
    extraction    the bureau decides a backup extraction        since the department applied
    grant         the department decides a vendor access grant  since the vendor applied
"""
from dataclasses import dataclass, fields

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..models.accounts import Role
from ..models.backups import BackupExtraction, ExtractionState
from ..models.grants import GrantState, VendorGrant
from ..models.requests import ProvisioningJob, ResourceRequest
from ..models.timelimits import STEPS, TimeLimitNotice
from ..scoping import scoped
from ..workdays import CHINA, deadline
from ..workflow import IN_REVIEW, RequestState
from .notifications import notify_department, notify_roles
from .workcalendar import load_calendar

STEP_ACTORS = {"review": Role.BUREAU, "provisioning": Role.VENDOR, "extraction": Role.BUREAU,
               "grant": Role.DEPARTMENT}
STEP_NAMES_ZH = {"review": "审核", "provisioning": "资源开通", "extraction": "备份数据提取审批",
                 "grant": "运维授权审批"}
PROVISIONING_STATES = (RequestState.APPROVED, RequestState.PROVISIONING, RequestState.FAILED)


@dataclass(frozen=True)
class TimeLimits:
    """Working days per step (TIME_LIMIT_*_DAYS) and the reminder's lead (TIME_LIMIT_REMIND_DAYS)."""

    review: int = 5
    provisioning: int = 3
    extraction: int = 3
    grant: int = 2
    remind: int = 1

    @classmethod
    def from_config(cls, config):
        return cls(**{f.name: int(config.get(f"TIME_LIMIT_{f.name.upper()}_DAYS", f.default)) for f in fields(cls)})

    def of(self, step):
        return getattr(self, step)


@dataclass
class OpenStep:
    """One step that waits on someone, with its deadline once computed."""

    step: str
    obj: object
    started_at: object
    department_id: int | None
    deadline: object = None

    @property
    def object_id(self):
        return self.obj.id

    @property
    def actor(self):
        return STEP_ACTORS[self.step]


def _provisioning_starts(session, requests):
    """When each approved request's provisioning began: its approval, else its first job (green channel)."""
    ids = [r.id for r in requests if r.approved_at is None]
    first_jobs = dict(session.execute(select(ProvisioningJob.request_id, func.min(ProvisioningJob.created_at))
                                      .where(ProvisioningJob.request_id.in_(ids))
                                      .group_by(ProvisioningJob.request_id)).all()) if ids else {}
    return {r.id: r.approved_at or first_jobs.get(r.id) or r.state_changed_at for r in requests}


def open_steps(session, user=None, steps=STEPS):
    """Return the open steps (OpenStep, oldest first) of the given kinds; with user, those user may see
    (a vendor: its own grants)."""
    def select_(model):
        return scoped(select(model), user) if user is not None else select(model)

    found = []
    if "review" in steps:
        for r in session.scalars(select_(ResourceRequest).where(ResourceRequest.state.in_(IN_REVIEW))):
            found.append(OpenStep("review", r, r.submitted_at or r.state_changed_at, r.department_id))
    if "provisioning" in steps:
        requests = list(session.scalars(select_(ResourceRequest)
                                        .where(ResourceRequest.state.in_(PROVISIONING_STATES))))
        starts = _provisioning_starts(session, requests)
        found += [OpenStep("provisioning", r, starts[r.id], r.department_id) for r in requests]
    if "extraction" in steps:
        for x in session.scalars(select_(BackupExtraction).where(BackupExtraction.state == ExtractionState.APPLIED)):
            found.append(OpenStep("extraction", x, x.requested_at, x.department_id))
    if "grant" in steps:
        stmt = select_(VendorGrant).where(VendorGrant.state == GrantState.REQUESTED)
        if user is not None and user.role == Role.VENDOR:
            stmt = stmt.where(VendorGrant.vendor_id == user.id)
        for g in session.scalars(stmt):
            found.append(OpenStep("grant", g, g.created_at, g.department_id))
    return sorted(found, key=lambda s: (s.started_at, s.step, s.object_id))


def with_deadlines(steps, limits, now, calendar):
    """Set each step's Deadline (portal.workdays.deadline) at now; return the steps."""
    for s in steps:
        s.deadline = deadline(calendar, s.started_at, limits.of(s.step), now)
    return steps


def deadlines_by_object(session, steps, limits, now):
    """Return {(step, object id): Deadline} of the open steps given (the calendar read once)."""
    if not steps:
        return {}
    return {(s.step, s.object_id): s.deadline for s in with_deadlines(steps, limits, now, load_calendar(session))}


def request_deadline(session, request, limits, now):
    """Return (step, Deadline) of a request's open step (review or provisioning), or None."""
    step = "review" if request.state in IN_REVIEW else "provisioning" if request.state in PROVISIONING_STATES else None
    if step is None:
        return None
    started = (request.submitted_at or request.state_changed_at if step == "review"
               else _provisioning_starts(session, [request])[request.id])
    return step, deadline(load_calendar(session), started, limits.of(step), now)


def decision_deadline(session, obj, limits, now):
    """Return (step, Deadline) of a grant awaiting the department or an extraction awaiting the bureau,
    or None when nobody has to decide it any more."""
    if isinstance(obj, VendorGrant) and obj.state == GrantState.REQUESTED:
        step, started = "grant", obj.created_at
    elif isinstance(obj, BackupExtraction) and obj.state == ExtractionState.APPLIED:
        step, started = "extraction", obj.requested_at
    else:
        return None
    return step, deadline(load_calendar(session), started, limits.of(step), now)


# -- reminders and escalations ------------------------------------------------------------------

def _subject_body(item, stage):
    d = item.deadline
    name = STEP_NAMES_ZH[item.step]
    what = _describe(item)
    due = d.due_day.strftime("%Y-%m-%d")
    if stage == "remind":
        subject = f"[政务云] 办理时限提醒：{name}（{what}）"
        body = (f"{what} 的{name}将于 {due}（北京时间当日 24:00）到期，"
                f"剩余 {max(d.remaining, 0)} 个工作日，请及时办理。\n")
    else:
        subject = f"[政务云] 已超时：{name}（{what}）"
        body = (f"{what} 的{name}已于 {due} 到期，超时 {-d.remaining} 个工作日，请督办。\n")
    return subject, body


def _describe(item):
    obj = item.obj
    if item.step in ("review", "provisioning"):
        return f"申请 {obj.number}（{obj.system_name}）"
    if item.step == "extraction":
        return f"备份数据提取申请 #{obj.id}"
    return f"运维授权申请 #{obj.id}"


def _recipients(session, settings, item, stage, subject, body):
    topic = f"timelimit:{item.step}:{item.object_id}"
    roles = [item.actor] if stage == "remind" else list(dict.fromkeys([item.actor, Role.BUREAU]))
    rows = []
    for role in roles:
        if role == Role.DEPARTMENT:
            rows += notify_department(session, settings, item.department_id, subject=subject, body=body, topic=topic)
        else:
            rows += notify_roles(session, settings, (role,), subject=subject, body=body, topic=topic,
                                 department_id=item.department_id)
    return rows


def _stage(item, limits):
    d = item.deadline
    if d.overdue:
        return "escalate"
    if d.remaining <= limits.remind:
        return "remind"
    return None


def send_notices(session, settings, now, limits=None):
    """Remind whoever must act on each step due within TIME_LIMIT_REMIND_DAYS working days, and
    escalate each overdue step to the bureau; each once per step. Commits; returns (reminded, escalated)."""
    limits = limits or TimeLimits.from_config(settings)
    steps = with_deadlines(open_steps(session), limits, now, load_calendar(session))
    sent = set(session.execute(select(TimeLimitNotice.step, TimeLimitNotice.object_id, TimeLimitNotice.started_at,
                                      TimeLimitNotice.stage)).all())
    counts = {"remind": 0, "escalate": 0}
    for item in steps:
        stage = _stage(item, limits)
        if stage is None or (item.step, item.object_id, item.started_at, stage) in sent:
            continue
        try:
            with session.begin_nested():  # another scheduler sent it meanwhile: the unique key says so
                notice = TimeLimitNotice(step=item.step, object_id=item.object_id, started_at=item.started_at,
                                         stage=stage, department_id=item.department_id, sent_at=now)
                session.add(notice)
                session.flush()
                subject, body = _subject_body(item, stage)
                notice.recipients = len(_recipients(session, settings, item, stage, subject, body))
        except IntegrityError:
            continue
        counts[stage] += 1
    session.commit()
    return counts["remind"], counts["escalate"]


def local_due(d):
    """The due day as Beijing time text (yyyy-mm-dd)."""
    return d.due_at.astimezone(CHINA).date().isoformat() if d else ""
