"""云服务商评价 (第二十八条) and the annual 服务质量考核 (第四条(三), 第二十七条).

Ratings: each department rates the vendor once per quarter, in the EVALUATION_WINDOW_DAYS after the
quarter ended: service attitude, response and resolution, 1 to 5 each, with a comment; an aspect
at or below EVALUATION_LOW_SCORE needs a reason. A second rating of the same quarter is refused (409).

The annual assessment: weighted indicators (EVALUATION_WEIGHTS, points summing to 100), each
`achieved / out of` of its figures, points = weight x achieved / out of, rounded once to the cent
(half up); the total is the sum of the rounded points. An indicator with nothing to measure (no
incident in the year, no rating given) scores its full weight and says so. The figures behind
every point are kept with the sheet; once signed the sheet is frozen (recompute refused, 409).

  sla             systems whose availability over the year (services/sla.py, month by month) met
                  SLA_TARGET_RATIO / systems with a probe
  response        incidents acknowledged (or, unacknowledged, resolved) within
                  EVALUATION_RESPONSE_TARGET_MINUTES of detection / incidents detected in the year
  resolution      incidents resolved within EVALUATION_RESOLUTION_TARGET_MINUTES of detection /
                  incidents detected in the year
  drills          drills done in the year, at most EVALUATION_DRILLS_PER_YEAR / that number
  rectifications  rectification notices to the vendor due in the year and closed by their deadline /
                  those due in the year
  ratings         sum of every aspect of every rating of the year / (5 x 3 x ratings)
"""
import hashlib
import json
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import utcnow
from ..errors import ConfigError, Forbidden, NotFound, ValidationFailed
from ..models.accounts import Department, Role
from ..models.evaluation import (ASSESSMENTS, SCORE_MAX, SCORE_MIN, AssessmentState, VendorAssessment,
                                 VendorRating)
from ..models.operations import Incident
from ..scoping import get_scoped, scoped
from ..text import _l
from ..workdays import CHINA
from .audit import record_event
from .notifications import notify_roles
from .transitions import transition

INDICATORS = ("sla", "response", "resolution", "drills", "rectifications", "ratings")
ASPECTS = ("attitude", "response", "resolution")
RATING_READERS = (Role.DEPARTMENT, Role.BUREAU, Role.VENDOR, Role.AUDITOR, Role.ADMIN)
ASSESSMENT_READERS = (Role.BUREAU, Role.VENDOR, Role.AUDITOR, Role.ADMIN)
CENT = Decimal("0.01")


class AlreadyRated(ValidationFailed):
    """The department rated this quarter already (one rating per department and quarter)."""

    http_status = 409

    def __init__(self, year, quarter):
        super().__init__(_l("Your department has already rated the vendor for %(year)s Q%(quarter)s.",
                            year=year, quarter=quarter))


# --- quarters and the rating window -----------------------------------------------------------

def quarter_bounds(year, quarter):
    """The aware [start, end) of a quarter in Beijing time."""
    start = datetime(year, 3 * quarter - 2, 1, tzinfo=CHINA)
    end = datetime(year + (quarter == 4), (3 * quarter) % 12 + 1, 1, tzinfo=CHINA)
    return start, end


def quarter_of(at):
    local = at.astimezone(CHINA)
    return local.year, (local.month - 1) // 3 + 1


def previous_quarter(year, quarter):
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def window_of(year, quarter, days):
    """The [opens, closes) of the rating window of a quarter: from its end, for days days."""
    _start, end = quarter_bounds(year, quarter)
    return end, end + timedelta(days=days)


def open_quarter(settings, now=None):
    """The (year, quarter) departments may rate now, or None outside every window."""
    now = now or utcnow()
    year, quarter = previous_quarter(*quarter_of(now))
    opens, closes = window_of(year, quarter, int(settings["EVALUATION_WINDOW_DAYS"]))
    return (year, quarter) if opens <= now < closes else None


def _check_window(settings, year, quarter, now):
    if not 1 <= quarter <= 4 or not 2000 <= year <= 2100:
        raise ValidationFailed(_l("Choose a quarter from 1 to 4."), field="quarter")
    opens, closes = window_of(year, quarter, int(settings["EVALUATION_WINDOW_DAYS"]))
    if now < opens:
        raise ValidationFailed(_l("A quarter is rated after it has ended."), field="quarter")
    if now >= closes:
        last_day = (closes - timedelta(seconds=1)).astimezone(CHINA).date().isoformat()
        raise ValidationFailed(_l("The rating window of %(year)s Q%(quarter)s closed on %(date)s.", year=year,
                                  quarter=quarter, date=last_day), field="quarter")


# --- ratings ----------------------------------------------------------------------------------

def ratings_select(user, *, year=None, quarter=None):
    """The ratings user may see (a department its own), newest quarter first."""
    if user is None or getattr(user, "role", None) not in RATING_READERS:
        raise Forbidden()
    stmt = scoped(select(VendorRating), user)
    if year:
        stmt = stmt.where(VendorRating.year == year)
    if quarter:
        stmt = stmt.where(VendorRating.quarter == quarter)
    return stmt.order_by(VendorRating.year.desc(), VendorRating.quarter.desc(), VendorRating.department_id)


def list_ratings(session, user, **filters):
    return list(session.scalars(ratings_select(user, **filters).limit(500)))


def get_rating(session, user, rating_id):
    if getattr(user, "role", None) not in RATING_READERS:
        raise Forbidden()
    return get_scoped(session, VendorRating, rating_id, user, kind=_l("Rating"))


def rated(session, department_id, year, quarter):
    return session.scalar(select(VendorRating).where(VendorRating.department_id == department_id,
                                                     VendorRating.year == year, VendorRating.quarter == quarter))


def is_low(rating_or_scores, settings):
    scores = rating_or_scores if isinstance(rating_or_scores, dict) else rating_or_scores.snapshot()
    return any(scores[a] <= int(settings["EVALUATION_LOW_SCORE"]) for a in ASPECTS)


def rate(session, ctx, settings, *, year, quarter, attitude, response, resolution, comment="", low_reason="",
         now=None):
    """A department user rates the vendor for a quarter (in its window); audited, bureau and vendor
    notified, committed. Returns the rating."""
    user = ctx.actor
    if getattr(user, "role", None) != Role.DEPARTMENT or user.department_id is None:
        raise Forbidden()
    now = now or utcnow()
    scores = {"attitude": attitude, "response": response, "resolution": resolution}
    for aspect, value in scores.items():
        if not isinstance(value, int) or not SCORE_MIN <= value <= SCORE_MAX:
            raise ValidationFailed(_l("Give a score from 1 to 5."), field=aspect)
    _check_window(settings, year, quarter, now)
    comment, low_reason = (comment or "").strip(), (low_reason or "").strip()
    if is_low(scores, settings) and len(low_reason) < 4:
        raise ValidationFailed(_l("A score of %(score)s or less needs a reason (at least 4 characters).",
                                  score=int(settings["EVALUATION_LOW_SCORE"])), field="low_reason")
    if rated(session, user.department_id, year, quarter) is not None:
        raise AlreadyRated(year, quarter)
    rating = VendorRating(department_id=user.department_id, year=year, quarter=quarter, comment=comment,
                          low_reason=low_reason, rated_by_id=user.id, rated_at=now, **scores)
    session.add(rating)
    try:
        session.flush()
    except IntegrityError:  # two of the department at once: the other was first
        session.rollback()
        raise AlreadyRated(year, quarter) from None
    record_event(session, ctx, "rating.submit", object_type="vendor_rating", object_id=rating.id,
                 department_id=rating.department_id, after={**rating.snapshot(), "low": is_low(scores, settings)},
                 detail=low_reason or comment)
    department = session.get(Department, user.department_id)
    low = "（含低分）" if is_low(scores, settings) else ""
    notify_roles(session, settings, (Role.BUREAU, Role.VENDOR),
                 subject=f"[政务云] 云服务商评价：{department.name} {year}年第{quarter}季度{low}",
                 body=f"服务态度 {attitude}，响应速度 {response}，问题解决 {resolution}（满分 5 分）。",
                 topic=f"rating:{rating.id}", link=f"/evaluation/ratings/{rating.id}",
                 department_id=rating.department_id)
    session.commit()
    return rating


def overview(session, user, year):
    """Per department of the year's ratings: {department: {quarter: rating}} and each quarter's mean."""
    ratings = list_ratings(session, user, year=year)
    by_department = {}
    for r in ratings:
        by_department.setdefault(r.department, {})[r.quarter] = r
    means = {}
    for q in range(1, 5):
        of_quarter = [r for r in ratings if r.quarter == q]
        if of_quarter:
            means[q] = sum(Fraction(r.attitude + r.response + r.resolution, 3) for r in of_quarter) / len(of_quarter)
    return sorted(by_department.items(), key=lambda kv: kv[0].code), means


# --- the annual assessment ----------------------------------------------------------------------

def points(weight, achieved, out_of):
    """weight x achieved / out_of, rounded once to the cent (half up); full weight when out_of is 0."""
    if out_of == 0:
        return Decimal(weight).quantize(CENT)
    exact = Fraction(weight) * Fraction(achieved) / Fraction(out_of)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


def check_weights(weights):
    """Return the weights as {indicator: int}; raise ValidationFailed unless every indicator has a
    whole number of points from 0 to 100 and they sum to 100."""
    if not isinstance(weights, dict) or set(weights) != set(INDICATORS):
        raise ValidationFailed(_l("Give a weight for each indicator."), field="weights")
    out = {}
    for key in INDICATORS:
        value = weights[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise ValidationFailed(_l("A weight is a whole number from 0 to 100."), field=key)
        out[key] = value
    if sum(out.values()) != 100:
        raise ValidationFailed(_l("The weights must add up to 100 (now %(sum)s).", sum=sum(out.values())),
                               field="weights")
    return out


def targets_of(settings):
    return {"sla_ratio": float(settings["SLA_TARGET_RATIO"]),
            "response_minutes": int(settings["EVALUATION_RESPONSE_TARGET_MINUTES"]),
            "resolution_minutes": int(settings["EVALUATION_RESOLUTION_TARGET_MINUTES"]),
            "drills_per_year": int(settings["EVALUATION_DRILLS_PER_YEAR"])}


def _local(at):
    return f"{at.astimezone(CHINA):%Y-%m-%d %H:%M}" if at else ""


def _minutes(delta):
    return round(delta.total_seconds() / 60, 1)


def sla_figures(session, year, target, now):
    """Each system's availability over the year from the month-by-month SLA (approved maintenance
    excluded): rows and how many met the target."""
    from .sla import monthly_report
    systems = {}
    for month in range(1, 13):
        for fig in monthly_report(session, None, year, month, now=now, every_department=True):
            row = systems.setdefault((fig.department_name, fig.system_name), [0.0, 0.0, 0.0, 0])
            row[0] += fig.total_minutes
            row[1] += fig.maintenance_minutes
            row[2] += fig.minutes_lost
            row[3] += fig.incidents
    rows, met = [], 0
    for (department, system), (total, maintenance, lost, incidents) in sorted(systems.items()):
        counted = total - maintenance
        ratio = 1.0 if counted <= 0 else max(0.0, (counted - lost) / counted)
        ok = ratio >= target
        met += ok
        rows.append([department, system, round(total, 1), round(maintenance, 1), round(lost, 1), incidents,
                     f"{ratio * 100:.4f}%", "是" if ok else "否"])
    return met, len(rows), rows


def incident_figures(session, year, response_target, resolution_target):
    """The incidents detected in the year: response and resolution minutes against their targets."""
    start, _ = quarter_bounds(year, 1)
    _, end = quarter_bounds(year, 4)
    responded = resolved = 0
    response_rows, resolution_rows = [], []
    names = dict(session.execute(select(Department.id, Department.name)).all())
    for i in session.scalars(select(Incident).where(Incident.detected_at >= start, Incident.detected_at < end)
                             .order_by(Incident.detected_at, Incident.id)):
        answered_at = i.acknowledged_at or i.resolved_at
        response = _minutes(answered_at - i.detected_at) if answered_at else None
        on_time = response is not None and response <= response_target
        responded += on_time
        department = names.get(i.department_id, "")
        response_rows.append([i.id, department, i.system_name, KIND_TEXT.get(i.kind, i.kind), _local(i.detected_at), _local(answered_at),
                              "—" if response is None else response, "是" if on_time else "否"])
        resolution = _minutes(i.resolved_at - i.detected_at) if i.resolved_at else None
        fixed = resolution is not None and resolution <= resolution_target
        resolved += fixed
        resolution_rows.append([i.id, department, i.system_name, KIND_TEXT.get(i.kind, i.kind), _local(i.detected_at),
                                _local(i.resolved_at), "—" if resolution is None else resolution,
                                "是" if fixed else "否"])
    return (responded, len(response_rows), response_rows), (resolved, len(resolution_rows), resolution_rows)


def drills_in(session, start, end, *, department_id=None):
    """Rows of the drills done (completed or closed) that ended in [start, end): the platform's
    and, with department_id, only those of that department and the platform's."""
    from ..models.duties import DRILL_DONE_STATES, Drill
    stmt = select(Drill).where(Drill.state.in_(DRILL_DONE_STATES), Drill.ended_at >= start, Drill.ended_at < end)
    if department_id is not None:
        stmt = stmt.where((Drill.department_id == department_id) | Drill.department_id.is_(None))
    return [[d.id, d.title, d.department.name if d.department else "平台（总体预案）", _local(d.started_at),
             _local(d.ended_at), RESULT_TEXT.get(d.result, d.result or "")]
            for d in session.scalars(stmt.order_by(Drill.ended_at, Drill.id))]


RESULT_TEXT = {"passed": "达到预期", "partial": "基本达到", "failed": "未达到"}
KIND_TEXT = {"outage": "服务中断", "degradation": "性能下降", "security": "安全事件", "backup": "备份故障"}


def drill_figures(session, year, required):
    """Drills done in the year (the emergency drills of 第六条(四), 第二十三条), counted up to required."""
    rows = drills_in(session, *_year_bounds(year))
    return min(len(rows), required), required, rows


def rectification_figures(session, year, now):
    """Rectification notices to the vendor (第二十条) due in the year, up to today: accepted by the
    end of the due day (Beijing) or not; withdrawn ones do not count, open ones not yet due neither."""
    from ..models.duties import Rectification, RectificationState, RectificationTarget
    today = now.astimezone(CHINA).date()
    rows, on_time = [], 0
    for r in session.scalars(select(Rectification).where(
            Rectification.target == RectificationTarget.VENDOR, Rectification.state != RectificationState.WITHDRAWN)
            .order_by(Rectification.due_date, Rectification.id)):
        if r.due_date.year != year or (r.closed_at is None and r.due_date >= today):
            continue
        ok = bool(r.closed_on_time)
        on_time += ok
        rows.append([r.number, r.title, r.due_date.isoformat(), _local(r.closed_at), "是" if ok else "否"])
    return on_time, len(rows), rows


def _year_bounds(year):
    return quarter_bounds(year, 1)[0], quarter_bounds(year, 4)[1]


def rating_figures(session, year):
    """Every rating of the year: the sum of its aspects against 5 x 3 each."""
    rows, total = [], 0
    for r in session.scalars(select(VendorRating).where(VendorRating.year == year)
                             .order_by(VendorRating.quarter, VendorRating.department_id)):
        total += r.attitude + r.response + r.resolution
        rows.append([r.department.name, f"第{r.quarter}季度", r.attitude, r.response, r.resolution,
                     r.attitude + r.response + r.resolution, r.low_reason or r.comment])
    return total, SCORE_MAX * len(ASPECTS) * len(rows), rows


INDICATOR_COLUMNS = {
    "sla": ["使用部门(单位)", "业务系统", "总时长（分钟）", "计划内维护（分钟）", "中断（分钟）", "故障事件", "可用率", "达标"],
    "response": ["编号", "使用部门(单位)", "业务系统", "类型", "发现时间", "响应时间", "响应用时（分钟）", "达标"],
    "resolution": ["编号", "使用部门(单位)", "业务系统", "类型", "发现时间", "恢复时间", "处置用时（分钟）", "达标"],
    "drills": ["编号", "演练", "使用部门(单位)", "开始", "结束", "结果"],
    "rectifications": ["编号", "整改通知", "期限", "办结时间", "按期办结"],
    "ratings": ["使用部门(单位)", "季度", "服务态度", "响应速度", "问题解决", "合计", "意见或低分理由"],
}
INDICATOR_NAMES = {"sla": "服务等级（可用率）", "response": "故障响应", "resolution": "故障处置",
                   "drills": "应急演练", "rectifications": "整改按期办结", "ratings": "使用部门评价"}


def compute_indicators(session, settings, year, weights, now=None):
    """Return (indicators, total): per indicator its weight, achieved, out of, points, basis and rows."""
    now = now or utcnow()
    targets = targets_of(settings)
    response, resolution = incident_figures(session, year, targets["response_minutes"], targets["resolution_minutes"])
    measured = {
        "sla": (sla_figures(session, year, targets["sla_ratio"], now),
                f"可用率达到 {targets['sla_ratio'] * 100:g}% 的业务系统数 / 业务系统数"),
        "response": (response, f"{targets['response_minutes']} 分钟内响应的故障事件 / 年内发现的故障事件"),
        "resolution": (resolution, f"{targets['resolution_minutes']} 分钟内恢复的故障事件 / 年内发现的故障事件"),
        "drills": (drill_figures(session, year, targets["drills_per_year"]),
                   f"年内完成的应急演练（至多 {targets['drills_per_year']} 次）/ {targets['drills_per_year']} 次"),
        "rectifications": (rectification_figures(session, year, now), "按期办结的整改通知 / 年内到期的整改通知"),
        "ratings": (rating_figures(session, year), "各使用部门评分之和 / 满分（5 分 × 3 项 × 评价份数）"),
    }
    indicators, total = [], Decimal("0.00")
    for key in INDICATORS:
        (achieved, out_of, rows), basis = measured[key]
        got = points(weights[key], achieved, out_of)
        total += got
        indicators.append({"key": key, "name": INDICATOR_NAMES[key], "weight": weights[key], "achieved": achieved,
                           "out_of": out_of, "points": str(got), "basis": basis, "no_data": out_of == 0,
                           "columns": INDICATOR_COLUMNS[key], "rows": rows})
    return indicators, total, targets


def _hash(year, weights, indicators, total):
    doc = {"year": year, "weights": weights, "indicators": indicators, "total": str(total)}
    return hashlib.sha256(json.dumps(doc, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def default_weights(settings):
    try:
        return check_weights(dict(settings["EVALUATION_WEIGHTS"]))
    except ValidationFailed as exc:
        raise ConfigError("EVALUATION_WEIGHTS", str(exc.message)) from None


def _require_bureau(user):
    if getattr(user, "role", None) != Role.BUREAU:
        raise Forbidden()


def compute(session, ctx, settings, year, weights=None, now=None):
    """The bureau computes (or recomputes, while a draft) the assessment of a year; audited, committed.
    A signed assessment is frozen: TransitionNotAllowed (409)."""
    _require_bureau(ctx.actor)
    if not 2000 <= int(year) <= 2100:
        raise ValidationFailed(_l("Enter a year from 2000 to 2100."), field="year")
    weights = check_weights(weights) if weights is not None else default_weights(settings)
    assessment = session.scalar(select(VendorAssessment).where(VendorAssessment.year == year))
    if assessment is not None and not ASSESSMENTS.can(assessment.state, "recompute"):
        ASSESSMENTS.next_state(assessment.state, "recompute")  # raises 409 before any work
    indicators, total, targets = compute_indicators(session, settings, year, weights, now)

    def fill(obj, moved_at=None):
        obj.computed_at = moved_at or now or utcnow()
        obj.weights, obj.targets, obj.indicators, obj.total = weights, targets, indicators, total
        obj.content_hash = _hash(year, weights, indicators, total)
        obj.computed_by_id = ctx.actor.id

    if assessment is None:
        assessment = VendorAssessment(year=year, state=AssessmentState.DRAFT, computed_at=now or utcnow())
        fill(assessment)
        session.add(assessment)
        try:
            session.flush()
        except IntegrityError:  # another computed the year at the same moment
            session.rollback()
            raise AlreadyComputed(year) from None
        record_event(session, ctx, "assessment.compute", object_type="vendor_assessment", object_id=assessment.id,
                     after=assessment.snapshot())
    else:
        transition(session, ctx, ASSESSMENTS, assessment, "recompute", effects=fill, now=now,
                   detail=f"total {total}")
    session.commit()
    return assessment


class AlreadyComputed(ValidationFailed):
    http_status = 409

    def __init__(self, year):
        super().__init__(_l("The assessment of %(year)s exists already: recompute it.", year=year))


def sign(session, ctx, settings, assessment_id, comment=""):
    """The bureau signs the assessment: frozen from then on; the vendor is notified; committed."""
    _require_bureau(ctx.actor)
    assessment = get_assessment(session, ctx.actor, assessment_id)
    comment = (comment or "").strip()

    def stamp(obj, _now):
        obj.signed_by_id, obj.sign_comment = ctx.actor.id, comment

    transition(session, ctx, ASSESSMENTS, assessment, "sign", effects=stamp, detail=comment)
    notify_roles(session, settings, (Role.VENDOR, Role.BUREAU),
                 subject=f"[政务云] 服务质量考核已签发：{assessment.year}年度",
                 body=f"{assessment.year}年度云服务商服务质量考核得分 {assessment.total} 分（满分 100 分）。",
                 topic=f"assessment:{assessment.id}", link=f"/evaluation/assessments/{assessment.id}")
    session.commit()
    return assessment


def list_assessments(session, user):
    if getattr(user, "role", None) not in ASSESSMENT_READERS:
        raise Forbidden()
    return list(session.scalars(select(VendorAssessment).order_by(VendorAssessment.year.desc())))


def get_assessment(session, user, assessment_id):
    if getattr(user, "role", None) not in ASSESSMENT_READERS:
        raise Forbidden()
    assessment = session.get(VendorAssessment, assessment_id)
    if assessment is None:
        raise NotFound(_l("Assessment"), assessment_id)
    return assessment


# --- the score sheet as files ------------------------------------------------------------------

def escaped(rows):
    """Rows with every value as text safe in a reportlab Paragraph (a comment may hold < or &)."""
    from xml.sax.saxutils import escape
    return [[escape(str(v)) for v in row] for row in rows]


def sheet_title(assessment):
    return f"云服务商服务质量考核评分表（{assessment.year}年度）"


def summary_rows(assessment):
    rows = [[i["name"], i["weight"], i["basis"], f"{i['achieved']} / {i['out_of']}" + ("（无数据，计满分）" if i["no_data"] else ""),
             i["points"]] for i in assessment.indicators]
    rows.append(["合计", sum(i["weight"] for i in assessment.indicators), "", "", str(assessment.total)])
    return ["指标", "权重（分）", "计算方法", "完成 / 应完成", "得分"], rows


def state_line(assessment):
    if assessment.state == AssessmentState.SIGNED:
        who = assessment.signed_by.full_name if assessment.signed_by else ""
        return f"已签发：{_local(assessment.signed_at)}（北京时间） 签发人：{who}"
    return f"草稿，计算时间：{_local(assessment.computed_at)}（北京时间）"


def export(assessment, fmt):
    """Return (bytes, mimetype, filename) of the score sheet as xlsx or pdf."""
    headings, rows = summary_rows(assessment)
    title = sheet_title(assessment)
    name = f"vendor-assessment-{assessment.year}"
    details = [(INDICATOR_NAMES[i["key"]], i["columns"], i["rows"]) for i in assessment.indicators]
    notes = [state_line(assessment), f"内容摘要 SHA-256：{assessment.content_hash}"]
    if fmt == "xlsx":
        from .reports import to_xlsx
        rows_with_notes = rows + [[]] + [[n] for n in notes]
        return (to_xlsx(title, headings, rows_with_notes, details),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name + ".xlsx")
    if fmt == "pdf":
        from reportlab.lib.units import mm

        from .receipts import form_pdf
        tables = [("考核结果", headings, escaped(rows), [32 * mm, 18 * mm, 120 * mm, 45 * mm, 20 * mm])]
        tables += [(f"{caption}：明细", columns, escaped(body) or [["—"] + [""] * (len(columns) - 1)], None)
                   for caption, columns, body in details]
        header = [("考核年度", f"{assessment.year}年"), ("状态", state_line(assessment)),
                  ("总分", f"{assessment.total} 分（满分 100 分）")]
        footer = [f"内容摘要 SHA-256：{assessment.content_hash}", "", "市大数据管理局（盖章）：　　　　　　　签发日期：　　　　年　　月　　日"]
        return form_pdf(title, header, tables, footer, landscape_page=True), "application/pdf", name + ".pdf"
    raise NotFound("format", fmt)
