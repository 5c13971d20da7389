"""The 月度汇总报备 as page, CSV, XLSX and PDF: the same totals everywhere, Chinese text in the PDF;
departments see their own row; the budget view and its exports."""
import csv
import io
import subprocess
from decimal import Decimal

from openpyxl import load_workbook

from portal.models.accounts import User
from portal.services import statements
from portal.services.audit import RequestInfo, record_event
from tests.conftest import csrf_token_from
from tests.integration.test_billing_statements import cst, load_samples


def _seed_month(db_session, seed):
    load_samples(db_session, seed.dept_a)
    bureau = db_session.get(User, seed.user_ids["bureau"])
    ctx = RequestInfo(actor=bureau, correlation_id="test")
    statements.rate_month(db_session, ctx, seed.dept_a, 2026, 10, now=cst(11, 2))
    # request handling in October, as the audit log records it
    events = [(seed.dept_a, "request.submit")] * 3 + [(seed.dept_a, "request.approve")] * 2 + \
             [(seed.dept_a, "request.return"), (seed.dept_b, "request.submit"), (seed.dept_b, "request.reject")]
    for dept_id, action in events:
        event = record_event(db_session, ctx, action, object_type="resource_request", object_id=1,
                             department_id=dept_id)
        event.occurred_at = cst(10, 15)
    db_session.commit()


def _generate(client):
    page = client.get("/billing/reports").get_data(as_text=True)
    response = client.post("/billing/reports", data={"csrf_token": csrf_token_from(page), "year": 2026, "month": 10})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def test_xlsx_and_pdf_show_the_same_totals(db_session, seed, login_as, tmp_path):
    _seed_month(db_session, seed)
    bureau = login_as("bureau")
    url = _generate(bureau)
    page = bureau.get(url).get_data(as_text=True)
    assert "政务云月度汇总报备（2026年10月）" in page and "454.07" in page

    xlsx = bureau.get(url + "/export/xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    headings = list(rows[1])
    total = dict(zip(headings, rows[-1]))
    assert total["使用部门(单位)"] == "合计"
    assert (total["收到申请"], total["已批准"], total["已驳回"], total["退回修改"]) == (4, 2, 1, 1)
    assert Decimal(str(total["费用（元）"])) == Decimal("454.07")

    pdf = bureau.get(url + "/export/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "政务云月度汇总报备" in text and "甲局" in text and "合计" in text
    total_line = next(line for line in text.splitlines() if line.strip().startswith("合计"))
    assert total_line.split()[1:5] == ["4", "2", "1", "1"] and "454.07" in total_line

    csv_rows = list(csv.reader(io.StringIO(bureau.get(url + "/export/csv").data.decode("utf-8-sig"))))
    assert csv_rows[-1][0] == "合计" and csv_rows[-1][-1] == "454.07"


def test_department_sees_only_its_own_row(db_session, seed, login_as):
    _seed_month(db_session, seed)
    url = _generate(login_as("bureau"))
    own = login_as("dept").get(url).get_data(as_text=True)
    assert "甲局" in own and "乙局" not in own
    rows = list(csv.reader(io.StringIO(login_as("dept_b").get(url + "/export/csv").data.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["乙局", "合计"] and rows[-1][-1] == "0.00"


def test_scheduler_close_month_and_budget(db_session, seed, login_as):
    from scheduler.billing_jobs import close_month
    load_samples(db_session, seed.dept_a)
    report = close_month(db_session, 2026, 10, now=cst(11, 1, 1))
    assert {e.department_id for e in report.entries} >= {seed.dept_a, seed.dept_b}
    assert report.generated_by == "scheduler"
    bureau = login_as("bureau")
    page = bureau.get("/billing/budget?year=2026").get_data(as_text=True)
    assert "<svg" in page and "454.07" in page
    # the forecast carries the newest sample's allocations over the 8760 h of 2027 at today's prices:
    # vCPU 4 x 8760 x 0.0437 = 1531.248 -> 1531.25; RAM 8 x 8760 x 0.02 = 1401.60;
    # SSD 100 x 8760 x 0.0023 = 2014.80; IP 8760 x 0.0333 = 291.708 -> 291.71; backup 10 x 8760 x 0.001 = 87.60
    assert "5326.96" in page
    sheet = load_workbook(io.BytesIO(bureau.get("/billing/budget?year=2026&format=xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][-2:] == ("2026年合计", "2027年预测")
    assert Decimal(str(rows[-1][-1])) == Decimal("5326.96")


def test_cli_close_month(app, db_session, seed):
    from portal.models.billing import MonthlyReport, Statement
    load_samples(db_session, seed.dept_a)
    result = app.test_cli_runner().invoke(args=["billing", "close-month", "--month", "2026-10"])
    assert result.exit_code == 0, result.output
    assert "monthly report" in result.output
    db_session.expire_all()
    assert db_session.query(MonthlyReport).filter_by(year=2026, month=10).count() == 1
    october = db_session.query(Statement).filter_by(department_id=seed.dept_a, year=2026, month=10).one()
    assert october.total == Decimal("454.07") and october.state == "draft"
    bad = app.test_cli_runner().invoke(args=["billing", "close-month", "--month", "2026-13"])
    assert bad.exit_code != 0


def test_average_review_and_provisioning_times_are_minutes_not_zero_hours(db_session, seed, login_as):
    """Issue 17, wrong result: requests reviewed in 12 minutes and provisioned in 90 seconds showed
    "0.0" hours; the report says 12分钟 and 1分钟 (humanised) in the page and every file, "—" without requests."""
    from datetime import timedelta
    from portal.models.requests import ResourceRequest
    _seed_month(db_session, seed)
    submitted = cst(10, 20, 9, 0)
    for n, (review, provision) in enumerate(((600, 80), (840, 100))):  # means: 12 minutes, 90 seconds
        db_session.add(ResourceRequest(
            number=f"ZWY-AVG-{n}", department_id=seed.dept_a, system_name=f"时长系统{n}", spec={}, state="provisioned",
            submitted_at=submitted, approved_at=submitted + timedelta(seconds=review),
            provisioned_at=submitted + timedelta(seconds=review + provision)))
    db_session.commit()
    bureau = login_as("bureau")
    url = _generate(bureau)
    rows = list(csv.reader(io.StringIO(bureau.get(url + "/export/csv").data.decode("utf-8-sig"))))
    by_department = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert (by_department["甲局"]["平均审核时长"], by_department["甲局"]["平均开通时长"]) == ("12分钟", "1分钟")
    assert by_department["乙局"]["平均审核时长"] == "—"
    page = bureau.get(url).get_data(as_text=True)
    assert "<td>12分钟</td>" in page and "<td>0.0</td>" not in page


def test_durations_are_said_as_people_read_them():
    from portal.services.reports import duration_text
    assert [duration_text(s) for s in (None, 45, 720, 3600, 3900, 86400, 93600)] == [
        "—", "45秒", "12分钟", "1小时", "1小时5分钟", "1天", "1天2小时"]
