"""安全监测报告 (第六条(五)): each department's report of a period from what govcloud knows, its
figures from seeded data, delivered once per department and period by the `security_reports` job,
personal information masked in the page, the API, the audit record and the files."""
import io
import shutil
import subprocess
from datetime import date, datetime

from sqlalchemy import func, select

from portal.extensions import db
from portal.models.accounts import Department, User
from portal.models.audit import AuditEvent
from portal.models.backups import BackupArtifact, BackupRun
from portal.models.duties import Drill, EmergencyPlan
from portal.models.evaluation import SecurityReport
from portal.models.grants import VendorGrant
from portal.models.operations import Incident, JobRun, Notification
from portal.models.requests import ResourceRequest
from portal.services import security_reports
from portal.services.audit import RequestInfo, record_event
from portal.workdays import CHINA
from tests.integration.test_api_domains_operations import Api, api  # noqa: F401
from tests.integration.test_vendor_evaluation import ARTIFACTS

PHONE = "13812345678"
NOVEMBER = (datetime(2026, 11, 1, tzinfo=CHINA), datetime(2026, 12, 1, tzinfo=CHINA))


def bj(*args):
    return datetime(*args, tzinfo=CHINA)


def _event(session, action, at, *, department_id, actor=None, addr="", outcome="success", object_id=""):
    event = record_event(session, RequestInfo(actor=actor, remote_addr=addr), action, object_type="user",
                         object_id=object_id, department_id=department_id, outcome=outcome)
    event.occurred_at = at  # written as it happened in November (the chain seals it at commit)
    return event


def seed_november(app, seed):
    """November 2026 (Beijing) of department A, and what must not count:

    incidents: outage 11-03, degradation 11-10, security 11-21 (3); one on 10-31 23:59 and one of B not counted
    failed logins: a-user from 203.0.113.9 twice and from 198.51.100.7 once, a-member once (4);
      one lockout; one of b-user (B) and one of a-user on 2026-10-31 not counted
    grants: one approved for 11-05..11-06 (the seeded ones are not decided: not counted); accesses under
      it: one ssh (success) and one console (denied) -> 2, 1 denied
    backups: 3 runs succeeded and 1 failed in November, 1 succeeded in October; a backup verified ok on
      11-20 10:00 and one that failed verification on 11-25
    drills: the platform's completed 11-12 and A's closed 11-20 (2); one of B not counted
    """
    with app.app_context():
        s = db.session
        for drill_id in seed.extra["drill_id"]:  # the duties seed's drills (ten days ago): before November here
            seeded = s.get(Drill, drill_id)
            seeded.scheduled_for, seeded.started_at, seeded.ended_at = (
                date(2026, 9, 1), bj(2026, 9, 1, 9), bj(2026, 9, 1, 11))
        a = s.get(Department, seed.dept_a)
        a.security_officer_phone = PHONE
        user = s.get(User, seed.user_ids["dept"])
        member = s.get(User, seed.user_ids["dept_member"])
        b_user = s.get(User, seed.user_ids["dept_b"])
        for kind, start in (("outage", bj(2026, 11, 3, 9)), ("degradation", bj(2026, 11, 10, 15)),
                            ("security", bj(2026, 11, 21, 2)), ("outage", bj(2026, 10, 31, 23, 59))):
            s.add(Incident(department_id=seed.dept_a, system_name="办公系统", title=f"十一月{kind}", kind=kind,
                           state="resolved", started_at=start, detected_at=start, resolved_at=start.replace(minute=30)))
        s.add(Incident(department_id=seed.dept_b, system_name="办公系统", title="乙局中断", kind="outage",
                       state="resolved", started_at=bj(2026, 11, 4, 9), detected_at=bj(2026, 11, 4, 9),
                       resolved_at=bj(2026, 11, 4, 10)))
        for who, addr, at in ((user, "203.0.113.9", bj(2026, 11, 2, 8)), (user, "203.0.113.9", bj(2026, 11, 2, 8, 1)),
                              (user, "198.51.100.7", bj(2026, 11, 15, 20)), (member, "203.0.113.9", bj(2026, 11, 16, 9)),
                              (user, "203.0.113.9", bj(2026, 10, 31, 12))):
            _event(s, "auth.login_failed", at, department_id=seed.dept_a, actor=who, addr=addr, outcome="failure",
                   object_id=who.id)
        _event(s, "auth.lockout", bj(2026, 11, 2, 8, 2), department_id=seed.dept_a, actor=user, outcome="denied")
        _event(s, "auth.login_failed", bj(2026, 11, 3, 8), department_id=seed.dept_b, actor=b_user,
               addr="192.0.2.1", outcome="failure")
        system = s.scalars(select(ResourceRequest).where(ResourceRequest.department_id == seed.dept_a,
                                                         ResourceRequest.state == "provisioned")).first()
        grant = VendorGrant(department_id=seed.dept_a, system_id=system.id, vendor_id=seed.user_ids["vendor"],
                            reason="数据库巡检", state="expired", starts_at=bj(2026, 11, 5, 9), ends_at=bj(2026, 11, 6, 9),
                            decided_at=bj(2026, 11, 4, 17), decided_by_id=seed.user_ids["dept_admin"])
        s.add(grant)
        vendor = s.get(User, seed.user_ids["vendor"])
        _event(s, "access.ssh", bj(2026, 11, 5, 10), department_id=seed.dept_a, actor=vendor)
        _event(s, "access.console", bj(2026, 11, 7, 10), department_id=seed.dept_a, actor=vendor, outcome="denied")
        runs = []
        for state, finished in (("succeeded", bj(2026, 11, 2, 2)), ("succeeded", bj(2026, 11, 3, 2)),
                                ("succeeded", bj(2026, 11, 4, 2)), ("failed", bj(2026, 11, 5, 2)),
                                ("succeeded", bj(2026, 10, 30, 2))):
            run = BackupRun(department_id=seed.dept_a, system_id=system.id, kinds="volume", state=state,
                            attempts=1, started_at=finished, finished_at=finished)
            s.add(run)
            runs.append(run)
        s.flush()
        for n, (outcome, at) in enumerate((("ok", bj(2026, 11, 20, 10)), ("failed", bj(2026, 11, 25, 10)))):
            s.add(BackupArtifact(run_id=runs[n].id, department_id=seed.dept_a, system_id=system.id, kind="volume",
                                 name=f"nov-{n}", status="available", verified_at=at, verify_outcome=outcome))
        platform = EmergencyPlan(scope="platform", title="政务云总体应急预案")
        own = EmergencyPlan(scope="system", department_id=seed.dept_a, title="甲局办公系统应急预案")
        other = EmergencyPlan(scope="system", department_id=seed.dept_b, title="乙局应急预案")
        s.add_all([platform, own, other])
        s.flush()
        for plan, dept, title, day, state in ((platform, None, "主存储故障切换演练", 12, "completed"),
                                              (own, seed.dept_a, "办公系统恢复演练", 20, "closed"),
                                              (other, seed.dept_b, "乙局演练", 21, "completed")):
            s.add(Drill(plan_id=plan.id, department_id=dept, title=title, scheduled_for=date(2026, 11, day),
                        state=state, started_at=bj(2026, 11, day, 9), ended_at=bj(2026, 11, day, 11), result="passed"))
        s.commit()


def test_the_report_figures_from_seeded_data(app, seed):
    seed_november(app, seed)
    with app.app_context():
        data = security_reports.figures(db.session, db.session.get(Department, seed.dept_a), *NOVEMBER)
    assert data["incidents"] == {"total": 3, "outage": 1, "degradation": 1, "security": 1, "backup": 0}
    assert [r[2] for r in data["incident_rows"]] == ["服务中断", "性能下降", "安全事件"]
    assert (data["failed_logins"], data["lockouts"]) == (4, 1)
    assert data["failed_by_account"] == [["a-user", 3], ["a-member", 1]]
    assert data["failed_by_address"] == [["203.0.*.*", 3], ["198.51.*.*", 1]]
    assert data["grants"] == 1 and data["grant_rows"][0][2] == "vendor1" and data["grant_rows"][0][5] == "已到期"
    assert (data["accesses"], data["accesses_denied"]) == (2, 1)
    assert (data["backups_ok"], data["backups_failed"], data["backups_verified"]) == (3, 1, 1)
    assert data["last_verified"] == "2026-11-20 10:00"
    assert [r[1] for r in data["drill_rows"]] == ["主存储故障切换演练", "办公系统恢复演练"]
    assert data["security_officer_phone"] == "138****5678"


def test_reports_are_delivered_once_per_department_and_period(app, seed, login_as, api):
    from scheduler import runtime
    from scheduler.history import claimed
    from scheduler.report_jobs import security_reports_job
    seed_november(app, seed)
    runtime.configure(app.config, app.extensions["govcloud_db"][0])
    results = []
    # the scheduler's run of 2026-12-01 02:15 (the period that ended is 2026-11), then one on the 15th
    # (a run by hand, a second scheduler): nothing is written twice
    for day in (1, 15):
        with app.app_context():
            run = JobRun(job_id="security_reports", scheduled_for=bj(2026, 12, day, 2, 15), outcome="running")
            db.session.add(run)
            db.session.commit()
            claim = JobRun(id=run.id, job_id=run.job_id, scheduled_for=run.scheduled_for)
        with claimed(claim):
            results.append(security_reports_job())
    first, second = results
    assert first.figures == {"period": "2026-11", "reports": 3, "delivered_before": 0}, first.summary
    assert second.figures == {"period": "2026-11", "reports": 0, "delivered_before": 3}, second.summary
    with app.app_context():
        s = db.session
        reports = list(s.scalars(select(SecurityReport).where(SecurityReport.period == "2026-11")))
        assert sorted(r.department_id for r in reports) == sorted([seed.dept_a, seed.dept_b, seed.county])
        report = next(r for r in reports if r.department_id == seed.dept_a)
        inbox = list(s.scalars(select(Notification).where(Notification.topic == f"security_report:{report.id}",
                                                          Notification.channel == "inbox")))
        runs = list(s.scalars(select(JobRun).where(JobRun.job_id == "security_reports")))
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "security_report.generate",
                                                         AuditEvent.department_id == seed.dept_a)))
    # every active user of department A once, with the link to the report; nobody of another department
    assert sorted(n.user_id for n in inbox) == sorted(seed.user_ids[k] for k in ("dept", "dept_member", "dept_admin"))
    assert all(n.link == f"/security-reports/{report.id}" and "2026年11月" in n.subject for n in inbox)
    assert [r.outcome for r in runs] == ["success", "success"]
    assert len(events) == 1 and events[0].after["failed_logins"] == 4
    # unique in the database too: a second row of the same department and period is refused
    with app.app_context():
        again = security_reports.generate(db.session, RequestInfo(), app.config, seed.dept_a, 1, 2026, 11)
    assert again is None

    # the department reads its own, in the page, the API and the files; another department gets 404
    dept = login_as("dept")
    page = dept.get(f"/security-reports/{report.id}").get_data(as_text=True)
    assert "138****5678" in page and "203.0.*.*" in page and "主存储故障切换演练" in page
    assert login_as("dept_b").get(f"/security-reports/{report.id}").status_code == 404
    assert api.get("dept_b", f"/security-reports/{report.id}").status_code == 404
    body = api.get("dept", f"/security-reports/{report.id}").get_json()
    assert body["figures"]["incidents"]["total"] == 3 and body["period"] == "2026-11"
    listed = api.get("dept_b", "/security-reports?period=2026-11").get_json()
    assert [item["department_id"] for item in listed["items"]] == [seed.dept_b]
    assert api.get("dept", "/security-reports?period=<script>").status_code == 400

    xlsx = dept.get(f"/security-reports/{report.id}/export.xlsx")
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(xlsx.get_data()))
    cells = [[c.value for c in row] for row in book["汇总"].iter_rows()]
    assert cells[0][0] == "政务云安全监测报告（甲局 2026年11月）"
    assert ["故障事件（合计）", 3] in cells and ["登录失败（次）", 4] in cells and ["备份成功 / 失败（次）", "3 / 1"] in cells
    assert book["登录失败（按来源地址，已脱敏）"]["A2"].value == "203.0.*.*"
    pdf = dept.get(f"/security-reports/{report.id}/export.pdf").get_data()
    assert pdf.startswith(b"%PDF") and shutil.which("pdftoppm")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "138****5678" in text and "2026年11月" in text

    # personal information: never in clear in the page, the API, the files, the audit record or the messages
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-", str(ARTIFACTS / f"security-report-pdf-{app.backend}")],
                   input=pdf, check=True)
    xml = b"".join(xlsx.get_data() for _ in [0])
    with app.app_context():
        stored = db.session.get(SecurityReport, report.id).figures
        messages = [n.body + n.subject for n in db.session.scalars(select(Notification).where(
            Notification.topic == f"security_report:{report.id}"))]
    for clear in (PHONE, "203.0.113.9", "198.51.100.7"):
        assert clear not in page and clear not in str(body) and clear not in text and clear not in str(stored)
        assert clear not in str(events[0].after) and not any(clear in m for m in messages)
        assert clear.encode() not in xml
        for sheet in book.worksheets:
            assert not any(clear in str(c.value) for row in sheet.iter_rows() for c in row)


def test_a_quarterly_period_and_the_reports_by_hand(app, seed, login_as, monkeypatch):
    """SECURITY_REPORT_MONTHS = 3: on 2026-12-01 the last whole quarter is 2026-Q3; the bureau writes
    the missing reports from the page, the department may not."""
    assert security_reports.last_period(3, bj(2026, 12, 1, 2, 15))[0] == "2026-Q3"
    assert security_reports.last_period(1, bj(2026, 1, 1, 2, 15))[0] == "2025-12"
    assert security_reports.last_period(12, bj(2026, 6, 1))[0] == "2025"
    name, start, end = security_reports.last_period(6, bj(2026, 7, 1, 0, 0))
    assert (name, start, end) == ("2026-H1", bj(2026, 1, 1), bj(2026, 7, 1))
    monkeypatch.setitem(app.config, "SECURITY_REPORT_MONTHS", 3)
    from tests.conftest import csrf_token_from
    bureau = login_as("bureau")
    token = csrf_token_from(bureau.get("/security-reports/").get_data(as_text=True))
    assert bureau.post("/security-reports/", data={"csrf_token": token}).status_code == 302
    dept = login_as("dept")
    token = csrf_token_from(dept.get("/security-reports/").get_data(as_text=True))
    assert dept.post("/security-reports/", data={"csrf_token": token}).status_code == 403
    with app.app_context():
        periods = db.session.scalars(select(SecurityReport.period).where(SecurityReport.months == 3)).all()
        count = db.session.scalar(select(func.count()).select_from(SecurityReport))
    assert sorted(periods) == ["2026-Q3"] * 3 and count == 3 + 2  # and the two seeded monthly ones
    listing = dept.get("/security-reports/").get_data(as_text=True)
    assert "2026年第三季度" in listing
