"""Numbers people quote (项目编号, 整改通知编号) carry the year in Beijing and never clash."""
from datetime import date, datetime, timezone

from portal.models.duties import Rectification
from tests.integration.test_projects_rules import FORM, ctx_of

NEW_YEAR_IN_BEIJING = datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc)  # 1 January 2027, 01:00 in Beijing


def test_a_project_started_after_midnight_in_beijing_has_the_new_year(app, seed, db_session):
    from portal.services import projects
    project = projects.create_project(db_session, ctx_of(db_session, seed, "dept"), dict(FORM),
                                      settings={"BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai"}, now=NEW_YEAR_IN_BEIJING)
    assert project.number == f"XM-2027-{project.id:05d}"


def test_rectification_numbers_do_not_clash_with_ones_already_given(app, seed, db_session):
    """A count of this year's notices gave the number of one already issued (one withdrawn, or two at once)."""
    from portal.services import rectifications
    db_session.add(Rectification(number="ZG-2027-0002", target="vendor", title="已有", finding="f", requirement="r",
                                 due_date=date(2027, 3, 1), state="issued", issued_at=NEW_YEAR_IN_BEIJING))
    db_session.commit()
    ctx = ctx_of(db_session, seed, "bureau")
    numbers = set()
    for title in ("日志留存不足", "补丁更新滞后"):
        rect = rectifications.issue(db_session, ctx, {
            "target": "vendor", "title": title, "finding": "发现", "requirement": "要求",
            "due_date": date(2027, 1, 20)}, now=NEW_YEAR_IN_BEIJING)
        assert rect.number == f"ZG-2027-{rect.id:04d}"
        numbers.add(rect.number)
    assert len(numbers) == 2 and "ZG-2027-0002" not in numbers
