"""After acceptance: the warranty (第十六条) and its reminders, and the performance evaluation (第十七条).

Warranty: it ends `warranty_years` (at least 3) after the acceptance day (the project's
warranty_ends_on, set when it is accepted). The warranty_reminders job sends the project's department
and the bureau one reminder per threshold (WARRANTY_REMIND_DAYS, 90 and 30 days by default) when the
days left, counted on the Beijing calendar, reach it; a job that runs late sends only the tightest
threshold reached (never a 90-day notice with 20 days left), and a warranty whose end day moves gets
its reminders again (the notice is keyed on the end day).

Evaluation: the bureau opens it on a project in use, with indicators (operation and effect, weights
summing to 100; the defaults below, or its own); each expert assigned to the project's evaluation
scores every indicator 0-100 (again, until it is completed: the newest scores count); the department
writes its self-assessment; the bureau completes it: the total is the mean of the experts' weighted
scores (the self-assessment is shown beside it, not counted: the regulation has the experts
evaluate), graded, and the project moves to evaluated through the projects' state machine.
"""
import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import utcnow
from ..errors import Forbidden, ValidationFailed, WrongState
from ..models.accounts import Role
from ..models.project_money import EVALUATIONS, EvaluationState, ExpertScore, PerformanceEvaluation, WarrantyNotice
from ..models.projects import (DecisionBody, DecisionOutcome, DecisionStage, ExpertAssignment, Project,
                               ProjectState)
from ..scoping import get_scoped
from ..text import _l
from .audit import record_event
from .notifications import notify_department, notify_roles
from .projects import _decide, add_years, local_today
from .transitions import lock, transition

MIN_WARRANTY_YEARS = 3
DEFAULT_REMIND_DAYS = (90, 30)


# -- warranty -----------------------------------------------------------------------------------

def warranty_end(project):
    """The day the project's warranty ends: as recorded, else acceptance + warranty years (≥ 3); None
    before acceptance."""
    if project.warranty_ends_on is not None:
        return project.warranty_ends_on
    if project.accepted_on is None:
        return None
    return add_years(project.accepted_on, max(project.warranty_years or 0, MIN_WARRANTY_YEARS))


def remind_days(settings):
    """The thresholds of WARRANTY_REMIND_DAYS ("90,30"), largest first; bad values stop with ValueError."""
    text = str((settings or {}).get("WARRANTY_REMIND_DAYS") or "")
    days = sorted({int(part) for part in text.split(",") if part.strip()}, reverse=True) if text else []
    if any(d < 0 or d > 3650 for d in days):
        raise ValueError("WARRANTY_REMIND_DAYS: days between 0 and 3650")
    return tuple(days) or DEFAULT_REMIND_DAYS


def due_threshold(days_left, thresholds):
    """The tightest threshold that days_left has reached (None when none, or the warranty is over)."""
    if days_left < 0:
        return None
    reached = [t for t in thresholds if days_left <= t]
    return min(reached) if reached else None


def send_warranty_reminders(session, settings, now=None):
    """Remind the department and the bureau of each warranty ending within a threshold, once per
    threshold and end day. Commits; returns (projects checked, reminders sent)."""
    thresholds = remind_days(settings)
    today = local_today(settings, now)
    horizon = today + timedelta(days=max(thresholds))
    projects = list(session.scalars(select(Project).where(
        Project.state.in_((ProjectState.IN_USE, ProjectState.EVALUATED)), Project.accepted_on.is_not(None))
        .order_by(Project.id)))
    sent = set(session.execute(select(WarrantyNotice.project_id, WarrantyNotice.warranty_ends_on,
                                      WarrantyNotice.days_before)).all())
    count = 0
    for project in projects:
        ends = warranty_end(project)
        if ends is None or ends > horizon:
            continue
        days_left = (ends - today).days
        threshold = due_threshold(days_left, thresholds)
        if threshold is None or (project.id, ends, threshold) in sent:
            continue
        try:
            with session.begin_nested():  # another scheduler sent it meanwhile: the unique key says so
                notice = WarrantyNotice(project_id=project.id, department_id=project.department_id,
                                        warranty_ends_on=ends, days_before=threshold, days_left=days_left,
                                        sent_at=now or utcnow())
                session.add(notice)
                session.flush()
                notice.recipients = _notify_warranty(session, settings, project, ends, days_left)
        except IntegrityError:
            continue
        count += 1
    session.commit()
    return len(projects), count


def _notify_warranty(session, settings, project, ends, days_left):
    subject = f"[政务云] 质量保修期即将到期：{project.name}（{project.number}）"
    body = (f"项目 {project.name}（{project.number}）于 {project.accepted_on:%Y-%m-%d} 验收合格，"
            f"质量保修期至 {ends:%Y-%m-%d}（北京时间）届满，尚余 {days_left} 天。"
            f"请在保修期内督促承建单位完成保修责任范围内的问题整改（第十六条）。\n")
    topic = f"warranty:{project.id}:{ends.isoformat()}"
    rows = notify_department(session, settings, project.department_id, subject=subject, body=body, topic=topic)
    rows += notify_roles(session, settings, (Role.BUREAU,), subject=subject, body=body, topic=topic,
                         department_id=project.department_id)
    return len(rows)


# -- performance evaluation ---------------------------------------------------------------------

ASPECTS = ("operation", "effect")  # 第十七条: 项目运行情况、应用效果
DEFAULT_INDICATORS = (
    {"key": "availability", "name": "系统运行稳定性与可用率", "aspect": "operation", "weight": 20},
    {"key": "security", "name": "安全保障与等级保护落实", "aspect": "operation", "weight": 15},
    {"key": "maintenance", "name": "运维管理与保修服务", "aspect": "operation", "weight": 15},
    {"key": "business_effect", "name": "业务应用效果与目标实现", "aspect": "effect", "weight": 20},
    {"key": "data_sharing", "name": "数据资源共享与开放", "aspect": "effect", "weight": 15},
    {"key": "satisfaction", "name": "用户满意度与惠民便民", "aspect": "effect", "weight": 15},
)
GRADES = ((Decimal(90), "excellent"), (Decimal(80), "good"), (Decimal(60), "pass"), (Decimal(0), "fail"))
GRADE_NAMES_ZH = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}  # the files are Chinese
KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")
CENT = Decimal("0.01")


def check_indicators(indicators):
    """Return the indicators as stored, or ValidationFailed: 1-12 with unique keys, a name, an aspect
    (operation or effect, both present), whole weights 1-100 summing to 100."""
    if not isinstance(indicators, (list, tuple)) or not 1 <= len(indicators) <= 12:
        raise ValidationFailed(_l("Give between 1 and 12 indicators."), field="indicators")
    out, keys = [], set()
    for item in indicators:
        key, name = item.get("key"), str(item.get("name") or "").strip()
        aspect, weight = item.get("aspect"), item.get("weight")
        if not isinstance(key, str) or not KEY.fullmatch(key) or key in keys:
            raise ValidationFailed(_l("Each indicator needs its own key."), field="indicators")
        if not name or len(name) > 60 or aspect not in ASPECTS:
            raise ValidationFailed(_l("Each indicator needs a name and an aspect."), field="indicators")
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 100:
            raise ValidationFailed(_l("Each weight is a whole number from 1 to 100."), field="indicators")
        keys.add(key)
        out.append({"key": key, "name": name, "aspect": aspect, "weight": weight})
    if sum(i["weight"] for i in out) != 100:
        raise ValidationFailed(_l("The weights must add up to 100."), field="indicators")
    if {i["aspect"] for i in out} != set(ASPECTS):
        raise ValidationFailed(_l("Score both the operation and the effect."), field="indicators")
    return out


def weighted_score(indicators, scores):
    """Σ weight × score / 100, to the cent (half up)."""
    total = sum(Decimal(i["weight"]) * Decimal(scores[i["key"]]) for i in indicators) / 100
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def grade_of(total):
    return next(name for floor, name in GRADES if total >= floor)


def _require(ctx, *roles):
    if ctx.actor is None or ctx.actor.role not in roles:
        raise Forbidden()


def get_evaluation(session, user, evaluation_id):
    return get_scoped(session, PerformanceEvaluation, evaluation_id, user, kind=_l("performance evaluation"))


def evaluations_of(session, project_id):
    return list(session.scalars(select(PerformanceEvaluation).where(PerformanceEvaluation.project_id == project_id)
                                .order_by(PerformanceEvaluation.id)))


def open_evaluation(session, ctx, project, indicators=None):
    """The bureau opens the evaluation of a project in use (one at a time)."""
    _require(ctx, Role.BUREAU)
    chosen = check_indicators(list(indicators) if indicators is not None else [dict(i) for i in DEFAULT_INDICATORS])
    lock(session, project)
    if project.state != ProjectState.IN_USE:
        raise WrongState(_l("Only a project in use is evaluated (after its acceptance)."))
    if any(e.state == EvaluationState.OPEN for e in evaluations_of(session, project.id)):
        raise WrongState(_l("The project's evaluation is already open."))
    evaluation = PerformanceEvaluation(project_id=project.id, department_id=project.department_id,
                                       indicators=chosen, opened_by_id=ctx.actor.id, opened_at=utcnow())
    session.add(evaluation)
    session.flush()
    record_event(session, ctx, "performance_evaluation.open", object_type="performance_evaluation",
                 object_id=evaluation.id, department_id=project.department_id,
                 after={"project_id": project.id, "indicators": [(i["key"], i["weight"]) for i in chosen]})
    return evaluation


def is_assigned(session, expert, project_id):
    """Whether the bureau assigned this expert to the project's performance evaluation."""
    return session.scalar(select(ExpertAssignment.id).where(
        ExpertAssignment.project_id == project_id, ExpertAssignment.expert_id == expert.id,
        ExpertAssignment.stage == "evaluation")) is not None


def submit_scores(session, ctx, evaluation, scores, opinion=""):
    """An assigned expert scores every indicator (whole numbers 0-100); again replaces the earlier."""
    _require(ctx, Role.EXPERT)
    if not is_assigned(session, ctx.actor, evaluation.project_id):
        raise Forbidden()
    if evaluation.state != EvaluationState.OPEN:
        raise WrongState(_l("The evaluation is completed."))
    keys = [i["key"] for i in evaluation.indicators]
    if not isinstance(scores, dict) or set(scores) != set(keys):
        raise ValidationFailed(_l("Score every indicator, and only those."), field="scores")
    if any(not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 100 for v in scores.values()):
        raise ValidationFailed(_l("Each score is a whole number from 0 to 100."), field="scores")
    scores = {k: scores[k] for k in keys}
    weighted = weighted_score(evaluation.indicators, scores)
    row = session.scalar(select(ExpertScore).where(ExpertScore.evaluation_id == evaluation.id,
                                                   ExpertScore.expert_id == ctx.actor.id))
    before = None if row is None else {"scores": row.scores, "weighted": str(row.weighted)}
    if row is None:
        row = ExpertScore(evaluation_id=evaluation.id, expert_id=ctx.actor.id)
        session.add(row)
    row.scores, row.weighted, row.opinion, row.submitted_at = scores, weighted, opinion or "", utcnow()
    session.flush()
    record_event(session, ctx, "performance_evaluation.score", object_type="performance_evaluation",
                 object_id=evaluation.id, department_id=evaluation.department_id, before=before,
                 after={"scores": scores, "weighted": str(weighted)}, detail=opinion or "")
    return row


def self_assess(session, ctx, evaluation, text, score=None):
    """The department writes its self-assessment (and may give itself a score 0-100)."""
    _require(ctx, Role.DEPARTMENT)
    if ctx.actor.department_id != evaluation.department_id:
        raise Forbidden()
    if evaluation.state != EvaluationState.OPEN:
        raise WrongState(_l("The evaluation is completed."))
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_l("Write the self-assessment."), field="self_assessment")
    if score is not None and (not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 100):
        raise ValidationFailed(_l("Each score is a whole number from 0 to 100."), field="self_score")
    evaluation.self_assessment, evaluation.self_assessed_at = text, utcnow()
    evaluation.self_score = None if score is None else Decimal(score)
    session.flush()
    record_event(session, ctx, "performance_evaluation.self_assess", object_type="performance_evaluation",
                 object_id=evaluation.id, department_id=evaluation.department_id,
                 after={"self_score": score}, detail=text[:500])
    return evaluation


def complete_evaluation(session, ctx, evaluation, conclusion):
    """The bureau completes the evaluation: total, grade, and the project moves to evaluated."""
    _require(ctx, Role.BUREAU)
    conclusion = (conclusion or "").strip()
    if not conclusion:
        raise ValidationFailed(_l("Write the conclusion."), field="conclusion")
    scores = list(session.scalars(select(ExpertScore).where(ExpertScore.evaluation_id == evaluation.id)))
    if not scores:
        raise WrongState(_l("No expert has scored the project yet."))
    if evaluation.self_assessed_at is None:
        raise WrongState(_l("The department has not written its self-assessment yet."))
    total = (sum((Decimal(s.weighted) for s in scores), Decimal(0)) / len(scores)).quantize(CENT, ROUND_HALF_UP)

    def closed(evaluation, now):
        evaluation.total, evaluation.grade, evaluation.conclusion = total, grade_of(total), conclusion

    transition(session, ctx, EVALUATIONS, evaluation, "complete", detail=conclusion, effects=closed,
               after={"experts": len(scores)})
    project = session.get(Project, evaluation.project_id)
    # the projects' own move: the state machine of 第七条 and the decision recorded with it
    _decide(session, ctx, project, "evaluate", stage=DecisionStage.EVALUATION, body=DecisionBody.EXPERT,
            outcome=DecisionOutcome.RECORDED, opinion=f"绩效评估总分 {total}，{zh_grade(evaluation.grade)}：{conclusion}",
            reason=conclusion)
    return evaluation


def zh_grade(grade):
    return GRADE_NAMES_ZH.get(grade, grade)


def evaluation_table(evaluation):
    """(headings, rows) of an evaluation: each indicator with its weight and the experts' mean score."""
    rows = []
    for i in evaluation.indicators:
        marks = [Decimal(s.scores[i["key"]]) for s in evaluation.scores if i["key"] in s.scores]
        mean = (sum(marks, Decimal(0)) / len(marks)).quantize(CENT, ROUND_HALF_UP) if marks else ""
        rows.append([i["name"], "运行情况" if i["aspect"] == "operation" else "应用效果", i["weight"], mean])
    return ["评估指标", "方面", "权重", "专家平均分"], rows
