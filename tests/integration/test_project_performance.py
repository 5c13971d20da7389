"""第十六条: warranty reminders before the end (once per threshold, Beijing days); 第十七条: the
performance evaluation (indicators with weights, experts assigned, self-assessment, total, the
project moves to evaluated)."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.errors import Forbidden, ValidationFailed, WrongState
from portal.models.audit import AuditEvent
from portal.models.operations import JobRun, Notification
from portal.models.project_money import WarrantyNotice
from portal.models.projects import ExpertAssignment, ProjectState
from portal.services import project_performance as perf
from portal.services.projects import add_years, local_today
from tests.project_money_support import ctx_of, make_project

SETTINGS = {"WARRANTY_REMIND_DAYS": "90,30"}


def notices(db_session):
    return [(n.project_id, n.days_before, n.days_left) for n in db_session.scalars(
        select(WarrantyNotice).order_by(WarrantyNotice.id))]


def outgoing(db_session, project_id):
    """The inbox messages about the project's warranty, by user."""
    return sorted(n.user_id for n in db_session.scalars(select(Notification).where(
        Notification.topic.like(f"warranty:{project_id}:%"), Notification.channel == "inbox")))


def test_warranty_ends_three_years_after_acceptance(db_session, seed):
    accepted = make_project(db_session, seed.dept_a, state=ProjectState.IN_USE, accepted_on=date(2024, 2, 29))
    assert perf.warranty_end(accepted) == date(2027, 2, 28)
    accepted.warranty_ends_on = None
    accepted.warranty_years = 5
    assert perf.warranty_end(accepted) == date(2029, 2, 28)


def test_reminders_once_per_threshold_counted_in_beijing_days(db_session, seed):
    # accepted 2024-03-01: the warranty ends 2027-03-01 (Beijing)
    project = make_project(db_session, seed.dept_a, state=ProjectState.IN_USE, accepted_on=date(2024, 3, 1))
    assert project.warranty_ends_on == date(2027, 3, 1)
    # 2026-12-01 23:30 Beijing is still 2026-12-01 15:30 UTC: 90 days left -> the 90-day reminder
    assert perf.send_warranty_reminders(db_session, SETTINGS, datetime(2026, 12, 1, 15, 30, tzinfo=timezone.utc)) \
        == (1, 1)
    assert notices(db_session) == [(project.id, 90, 90)]
    dept_users = {seed.user_ids[k] for k in ("dept", "dept_member", "dept_admin")}
    assert set(outgoing(db_session, project.id)) == dept_users | {seed.user_ids["bureau"]}
    assert seed.user_ids["dept_b"] not in outgoing(db_session, project.id)
    # the same day again, and the next days down to 31 left: nothing new
    for when in (datetime(2026, 12, 1, 15, 59, tzinfo=timezone.utc), datetime(2026, 12, 30, 0, 0, tzinfo=timezone.utc)):
        assert perf.send_warranty_reminders(db_session, SETTINGS, when) == (1, 0)
    # 2026-12-30 16:00 UTC is 2026-12-31 00:00 Beijing: 60 days left, still nothing
    assert perf.send_warranty_reminders(db_session, SETTINGS, datetime(2026, 12, 30, 16, 0, tzinfo=timezone.utc)) \
        == (1, 0)
    # 2027-01-29 15:59 UTC is 23:59 Beijing on the 29th: 31 days left; one minute later 30 left
    assert perf.send_warranty_reminders(db_session, SETTINGS, datetime(2027, 1, 29, 15, 59, tzinfo=timezone.utc)) \
        == (1, 0)
    assert perf.send_warranty_reminders(db_session, SETTINGS, datetime(2027, 1, 29, 16, 0, tzinfo=timezone.utc)) \
        == (1, 1)
    assert notices(db_session) == [(project.id, 90, 90), (project.id, 30, 30)]
    assert len(outgoing(db_session, project.id)) == 2 * len(dept_users | {seed.user_ids["bureau"]})
    # after the end: no more reminders
    assert perf.send_warranty_reminders(db_session, SETTINGS, datetime(2027, 3, 2, 1, 0, tzinfo=timezone.utc)) \
        == (1, 0)


def test_a_late_run_sends_only_the_tightest_threshold(db_session, seed):
    project = make_project(db_session, seed.dept_a, state=ProjectState.IN_USE, accepted_on=date(2024, 3, 1))
    # first run with 20 days left: the 30-day reminder only, never the 90-day one afterwards
    assert perf.send_warranty_reminders(db_session, SETTINGS, datetime(2027, 2, 9, 2, 0, tzinfo=timezone.utc)) \
        == (1, 1)
    assert perf.send_warranty_reminders(db_session, SETTINGS, datetime(2027, 2, 10, 2, 0, tzinfo=timezone.utc)) \
        == (1, 0)
    assert notices(db_session) == [(project.id, 30, 20)]
    # an extended warranty (a new end day) is reminded again
    project.warranty_ends_on = date(2028, 3, 1)
    db_session.commit()
    assert perf.send_warranty_reminders(db_session, SETTINGS, datetime(2027, 12, 5, 2, 0, tzinfo=timezone.utc)) \
        == (1, 1)
    assert notices(db_session)[-1] == (project.id, 90, 87)


def test_projects_not_accepted_are_not_reminded_and_bad_settings_stop(db_session, seed):
    make_project(db_session, seed.dept_a, state=ProjectState.CONSTRUCTION)
    assert perf.send_warranty_reminders(db_session, SETTINGS, datetime(2027, 1, 1, tzinfo=timezone.utc)) == (0, 0)
    with pytest.raises(ValueError):
        perf.remind_days({"WARRANTY_REMIND_DAYS": "90,-1"})
    assert perf.remind_days({"WARRANTY_REMIND_DAYS": "30, 90,7"}) == (90, 30, 7)


def test_the_scheduled_job_counts_its_figures(app, db_session, seed, monkeypatch):
    from scheduler import runtime
    from scheduler.project_jobs import warranty_reminders
    from scheduler.process import JOBS
    from portal.labels import JOB_FIGURE_LABELS, JOB_LABELS
    assert "warranty_reminders" in {j.job_id for j in JOBS} and "warranty_reminders" in JOB_LABELS
    ends = local_today({}) + timedelta(days=20)  # 20 days left today: the 30-day reminder
    make_project(db_session, seed.dept_a, state=ProjectState.IN_USE, accepted_on=add_years(ends, -3))
    monkeypatch.setattr(runtime, "_runtime", None)
    runtime.configure({**app.config, **SETTINGS}, app.extensions["govcloud_db"][0])
    warranty_reminders()
    run = db_session.scalars(select(JobRun).where(JobRun.job_id == "warranty_reminders")).one()
    assert run.figures == {"projects_checked": 1, "reminded": 1}
    assert set(run.figures) <= set(JOB_FIGURE_LABELS)


# -- performance evaluation ---------------------------------------------------------------------

@pytest.fixture
def in_use(db_session, seed):
    project = make_project(db_session, seed.dept_a, state=ProjectState.IN_USE, accepted_on=date(2026, 1, 10))
    db_session.add(ExpertAssignment(project_id=project.id, expert_id=seed.user_ids["expert"], stage="evaluation",
                                    assigned_by_id=seed.user_ids["bureau"]))
    db_session.commit()
    return project


def test_weights_must_add_up_to_100_and_cover_both_aspects():
    with pytest.raises(ValidationFailed):
        perf.check_indicators([{"key": "a", "name": "运行", "aspect": "operation", "weight": 60},
                               {"key": "b", "name": "效果", "aspect": "effect", "weight": 39}])
    with pytest.raises(ValidationFailed):
        perf.check_indicators([{"key": "a", "name": "运行", "aspect": "operation", "weight": 100}])
    with pytest.raises(ValidationFailed):
        perf.check_indicators([{"key": "a", "name": "运行", "aspect": "operation", "weight": 50},
                               {"key": "a", "name": "效果", "aspect": "effect", "weight": 50}])
    assert sum(i["weight"] for i in perf.check_indicators(list(perf.DEFAULT_INDICATORS))) == 100
    assert perf.weighted_score(perf.DEFAULT_INDICATORS, {i["key"]: 85 for i in perf.DEFAULT_INDICATORS}) == 85


def test_an_evaluation_from_open_to_the_project_evaluated(db_session, seed, in_use):
    bureau, expert = ctx_of(db_session, seed, "bureau"), ctx_of(db_session, seed, "expert")
    dept, dept_b = ctx_of(db_session, seed, "dept"), ctx_of(db_session, seed, "dept_b")
    early = make_project(db_session, seed.dept_a, state=ProjectState.CONSTRUCTION)
    with pytest.raises(WrongState):  # 第十七条: after go-live only
        perf.open_evaluation(db_session, bureau, early)
    db_session.rollback()
    with pytest.raises(Forbidden):
        perf.open_evaluation(db_session, dept, in_use)
    evaluation = perf.open_evaluation(db_session, bureau, in_use, [
        {"key": "stability", "name": "运行稳定", "aspect": "operation", "weight": 40},
        {"key": "effect", "name": "应用效果", "aspect": "effect", "weight": 60}])
    db_session.commit()
    with pytest.raises(WrongState):
        perf.open_evaluation(db_session, bureau, in_use)  # one at a time
    db_session.rollback()
    with pytest.raises(WrongState):  # nothing scored yet
        perf.complete_evaluation(db_session, bureau, evaluation, "结论")
    db_session.rollback()
    with pytest.raises(ValidationFailed):  # every indicator, whole numbers 0-100
        perf.submit_scores(db_session, expert, evaluation, {"stability": 90})
    with pytest.raises(ValidationFailed):
        perf.submit_scores(db_session, expert, evaluation, {"stability": 90, "effect": 101})
    perf.submit_scores(db_session, expert, evaluation, {"stability": 70, "effect": 70}, "初评")
    row = perf.submit_scores(db_session, expert, evaluation, {"stability": 90, "effect": 80}, "运行稳定，效果良好")
    assert row.weighted == Decimal("84.00")  # 0.4 × 90 + 0.6 × 80; the second scoring replaced the first
    # a second expert, not assigned, may not score
    from portal.models.accounts import User
    other = User(username="expert2", full_name="专家二", role="expert", password_hash="x")
    db_session.add(other)
    db_session.commit()
    from portal.services.audit import RequestInfo
    with pytest.raises(Forbidden):
        perf.submit_scores(db_session, RequestInfo(actor=other), evaluation, {"stability": 1, "effect": 1})
    with pytest.raises(Forbidden):
        perf.self_assess(db_session, dept_b, evaluation, "不是我的项目", 99)
    with pytest.raises(WrongState):  # the department has not assessed itself
        perf.complete_evaluation(db_session, bureau, evaluation, "结论")
    db_session.rollback()
    perf.self_assess(db_session, dept, evaluation, "系统运行平稳，日均办件 3000 件", 95)
    perf.complete_evaluation(db_session, bureau, evaluation, "达到预期目标")
    db_session.commit()
    assert (evaluation.state, evaluation.total, evaluation.grade) == ("completed", Decimal("84.00"), "good")
    assert evaluation.self_score == Decimal("95")  # shown beside, not counted
    db_session.refresh(in_use)
    assert in_use.state == ProjectState.EVALUATED
    decision = in_use.decisions[-1]
    assert (decision.stage, decision.body, decision.action) == ("evaluation", "expert", "evaluate")
    assert "84.00" in decision.opinion and "良好" in decision.opinion
    actions = list(db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("performance_evaluation.%") | (AuditEvent.action == "project.evaluate"))
        .order_by(AuditEvent.id)))
    assert actions == ["performance_evaluation.open", "performance_evaluation.score", "performance_evaluation.score",
                       "performance_evaluation.self_assess", "performance_evaluation.complete", "project.evaluate"]
    with pytest.raises(WrongState):
        perf.submit_scores(db_session, expert, evaluation, {"stability": 1, "effect": 1})
