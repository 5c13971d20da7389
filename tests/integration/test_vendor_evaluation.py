"""云服务商评价 (第二十八条) and the annual 服务质量考核 (第四条(三), 第二十七条).

A quarterly rating through the API and the pages (its window, a low score needs a reason, one per
department and quarter: 409 for a second); an annual assessment computed from seeded SLA, incident,
drill, rectification and rating data, every figure worked out by hand below; the signed sheet is
frozen (recompute and sign again: 409); its XLSX read back with openpyxl and its PDF rendered with
pdftoppm (test-artifacts/screenshots/assessment-pdf-*.png, looked at)."""
import io
import pathlib
import shutil
import subprocess
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.duties import Drill, EmergencyPlan, Rectification
from portal.models.evaluation import VendorAssessment, VendorRating
from portal.models.operations import Incident, MaintenanceWindow, Notification, ProbeTarget
from portal.services import evaluation
from portal.services.audit import RequestInfo
from portal.workdays import CHINA
from tests.conftest import csrf_token_from
from tests.integration.test_api_domains_operations import Api, api  # noqa: F401

ARTIFACTS = pathlib.Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def bj(*args):
    """A time in Beijing."""
    return datetime(*args, tzinfo=CHINA)


def _last_quarter():
    """The quarter that ended last before today (the one departments rate now), and days since it ended."""
    from portal.database import utcnow
    year, quarter = evaluation.previous_quarter(*evaluation.quarter_of(utcnow()))
    return year, quarter, (utcnow() - evaluation.quarter_bounds(year, quarter)[1]).days


YEAR, QUARTER, DAYS_SINCE = _last_quarter()


def _rating(year=YEAR, quarter=QUARTER, **changes):
    return {"year": year, "quarter": quarter, "attitude": 4, "response": 4, "resolution": 5,
            "comment": "响应较快", **changes}


def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_quarterly_rating_its_window_its_reason_and_once_per_quarter(app, seed, api, login_as, monkeypatch):
    # the clock is the real one: the quarter that ended last (e.g. 2026 Q3 on 2026-12-01), its window closed
    # (a window of 0 days) and then open (the days since it ended and 10 more)
    monkeypatch.setitem(app.config, "EVALUATION_WINDOW_DAYS", 0)
    before = _count(app, VendorRating)
    closed = api.post("dept", "/evaluation/ratings", _rating())
    assert closed.status_code == 422 and "截止" in str(closed.get_json()), closed.get_json()
    next_year, next_quarter = (YEAR + 1, 1) if QUARTER == 4 else (YEAR, QUARTER + 1)
    monkeypatch.setitem(app.config, "EVALUATION_WINDOW_DAYS", DAYS_SINCE + 10)
    not_ended = api.post("dept", "/evaluation/ratings", _rating(year=next_year, quarter=next_quarter))
    assert not_ended.status_code == 422 and "季度结束后方可评价" in str(not_ended.get_json())
    for role in ("bureau", "vendor", "auditor", "admin"):
        assert api.post(role, "/evaluation/ratings", _rating()).status_code == 403, role
    for bad in (_rating(attitude=6), _rating(attitude=0), _rating(attitude="5"), _rating(attitude=4.0),
                _rating(colour="red"), _rating(quarter=5), _rating(comment="x" * 2001),
                _rating(resolution=2),  # a low score without a reason
                _rating(resolution=1, low_reason="慢")):  # a reason too short to say anything
        response = api.post("dept", "/evaluation/ratings", bad)
        assert response.status_code == 422, (bad, response.get_json())
    assert _count(app, VendorRating) == before  # a refusal stores nothing

    made = api.post("dept", "/evaluation/ratings", _rating(resolution=2, low_reason="故障处置超过四小时"))
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["department_id"], body["year"], body["quarter"], body["resolution"]) == (seed.dept_a, YEAR, QUARTER, 2)
    rating_id = body["id"]
    # one per department and quarter: a colleague's second rating is 409, nothing changes
    second = api.post("dept_member", "/evaluation/ratings", _rating(attitude=1, low_reason="态度不好的理由"))
    assert second.status_code == 409, second.get_json()
    assert _count(app, VendorRating, VendorRating.department_id == seed.dept_a, VendorRating.year == YEAR,
                  VendorRating.quarter == QUARTER) == 1
    # the bureau and the vendor are told (inbox), the decision is audited with the reason
    with app.app_context():
        told = set(db.session.scalars(select(User.username).join(Notification, Notification.user_id == User.id)
                                      .where(Notification.topic == f"rating:{rating_id}",
                                             Notification.channel == "inbox")))
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "rating.submit",
                                                            AuditEvent.object_id == str(rating_id))).one()
    assert told == {"bureau1", "vendor1"}
    assert event.department_id == seed.dept_a and event.detail == "故障处置超过四小时"
    assert event.after["low"] is True and event.after["resolution"] == 2
    # scope: another department does not see it; the vendor and the auditor read it
    assert api.get("dept_b", f"/evaluation/ratings/{rating_id}").status_code == 404
    for role in ("vendor", "auditor", "bureau"):
        assert api.get(role, f"/evaluation/ratings/{rating_id}").get_json()["low_reason"] == "故障处置超过四小时"
    listed = api.get("dept_b", f"/evaluation/ratings?year={YEAR}").get_json()
    assert all(item["department_id"] == seed.dept_b for item in listed["items"])

    # the pages: department A has rated; department B rates through the form
    page = login_as("dept").get("/evaluation/")
    assert 'id="rating-done"' in page.get_data(as_text=True)
    client = login_as("dept_b")
    form = client.get("/evaluation/rate")
    assert form.status_code == 200
    token = csrf_token_from(form.get_data(as_text=True))
    refused = client.post("/evaluation/rate", data={"csrf_token": token, "attitude": "2", "response": "4",
                                                    "resolution": "4"})
    assert refused.status_code == 200 and "需说明理由" in refused.get_data(as_text=True)
    done = client.post("/evaluation/rate", data={"csrf_token": token, "attitude": "5", "response": "5",
                                                 "resolution": "4", "comment": "总体满意"})
    assert done.status_code == 302 and "/evaluation/ratings/" in done.headers["Location"]
    again = client.post("/evaluation/rate", data={"csrf_token": token, "attitude": "5", "response": "5",
                                                  "resolution": "5"}, follow_redirects=True)
    assert "已评价" in again.get_data(as_text=True)
    assert _count(app, VendorRating, VendorRating.year == YEAR, VendorRating.quarter == QUARTER) == 2
    overview = login_as("vendor").get(f"/evaluation/?year={YEAR}").get_data(as_text=True)
    assert "4 / 4 / 2" in overview and "5 / 5 / 4" in overview


# --- the annual assessment of 2025 from seeded data ----------------------------------------------

def seed_2025(app, seed):
    """The year 2025 as the bureau would see it (Beijing time):

    SLA, systems with a probe: 甲局 办公系统 and 乙局 办公系统 (seeded) and 甲局 门户网站 (added); the year
    has 365 x 1440 = 525600 minutes.
      甲局 办公系统: outage 03-10 10:00-12:00 (120 min), an approved window of 甲局 03-10 11:00-11:30 (every
        system): maintenance 30, lost 120 - 30 = 90; (525600 - 30 - 90) / (525600 - 30) = 525480 / 525570
        = 99.9829 % >= 99.9 %: met
      甲局 门户网站: maintenance 30, lost 0 (its incident is a security one): 100 %: met
      乙局 办公系统: outage 06-01 08:00-18:00 (600 min): 525000 / 525600 = 99.8858 %: not met
      -> 2 of 3: 30 x 2/3 = 20.00
    Incidents detected in 2025 (response target 30 min, resolution 240 min):
      I1 甲局 办公系统 detected 10:03, acknowledged 10:20 (17 min, on time), resolved 12:00 (117 min, on time)
      I2 乙局 办公系统 detected 08:05, acknowledged 08:50 (45 min, late), resolved 18:00 (595 min, late)
      I3 甲局 门户网站 security, detected 09-15 14:00, not acknowledged, resolved 14:25 (25 min: both on time)
      I4 乙局 backup, detected 11-20 02:00, neither acknowledged nor resolved (both missed)
      I0 detected 2024-12-31 23:50 Beijing (the year before): not counted
      -> response 2 of 4: 15 x 2/4 = 7.50; resolution 2 of 4: 15 x 2/4 = 7.50
    Drills (EVALUATION_DRILLS_PER_YEAR = 3): the platform's completed 04-02, 甲局's closed 10-12 count;
      one scheduled in 12-01 (not done) and one ended 2024-12-30 do not -> 2 of 3: 10 x 2/3 = 6.666.. = 6.67
    Rectifications to the vendor due in 2025: R1 due 05-31 accepted 05-31 23:00 (on time), R2 due 08-15
      accepted 08-20 (late), R5 due 11-30 still issued (late); R3 withdrawn and R4 (to 甲局) do not count
      -> 1 of 3: 10 x 1/3 = 3.333.. = 3.33
    Ratings of 2025: 甲局 Q1 5+4+4 = 13, 甲局 Q2 3+3+2 = 8 (with its reason), 乙局 Q1 4+4+5 = 13,
      乙局 Q3 2+1+2 = 5 (with its reason): 39 of 5 x 3 x 4 = 60 -> 20 x 39/60 = 13.00
    Total: 20.00 + 7.50 + 7.50 + 6.67 + 3.33 + 13.00 = 58.00
    """
    with app.app_context():
        s = db.session
        from portal.models.accounts import Department
        s.add(ProbeTarget(department_id=seed.dept_a, system_name="门户网站", name="portal", kind="tcp",
                          settings={"host": "127.0.0.1", "port": 9}))
        s.add(MaintenanceWindow(kind="planned", state="approved", title="核心交换机升级", reason="升级", impact="中断",
                                systems=[], starts_at=bj(2025, 3, 10, 11, 0), ends_at=bj(2025, 3, 10, 11, 30),
                                departments=[s.get(Department, seed.dept_a)]))
        s.add_all([
            Incident(department_id=seed.dept_a, system_name="办公系统", title="办公系统中断", kind="outage",
                     state="resolved", started_at=bj(2025, 3, 10, 10, 0), detected_at=bj(2025, 3, 10, 10, 3),
                     acknowledged_at=bj(2025, 3, 10, 10, 20), resolved_at=bj(2025, 3, 10, 12, 0)),
            Incident(department_id=seed.dept_b, system_name="办公系统", title="办公系统中断", kind="outage",
                     state="resolved", started_at=bj(2025, 6, 1, 8, 0), detected_at=bj(2025, 6, 1, 8, 5),
                     acknowledged_at=bj(2025, 6, 1, 8, 50), resolved_at=bj(2025, 6, 1, 18, 0)),
            Incident(department_id=seed.dept_a, system_name="门户网站", title="网页篡改告警", kind="security",
                     state="resolved", started_at=bj(2025, 9, 15, 14, 0), detected_at=bj(2025, 9, 15, 14, 0),
                     resolved_at=bj(2025, 9, 15, 14, 25)),
            Incident(department_id=seed.dept_b, system_name="办公系统", title="备份失败", kind="backup",
                     state="open", started_at=bj(2025, 11, 20, 1, 30), detected_at=bj(2025, 11, 20, 2, 0)),
            Incident(department_id=seed.dept_b, system_name="办公系统", title="跨年告警", kind="degradation",
                     state="resolved", started_at=bj(2024, 12, 31, 23, 40), detected_at=bj(2024, 12, 31, 23, 50),
                     resolved_at=bj(2024, 12, 31, 23, 55)),
        ])
        platform = EmergencyPlan(scope="platform", title="政务云总体应急预案")
        own = EmergencyPlan(scope="system", department_id=seed.dept_a, title="甲局办公系统应急预案")
        s.add_all([platform, own])
        s.flush()
        s.add_all([
            Drill(plan_id=platform.id, title="主存储故障切换演练", scheduled_for=date(2025, 4, 2), state="completed",
                  started_at=bj(2025, 4, 2, 9, 0), ended_at=bj(2025, 4, 2, 11, 0), result="passed"),
            Drill(plan_id=own.id, department_id=seed.dept_a, title="办公系统恢复演练", scheduled_for=date(2025, 10, 12),
                  state="closed", started_at=bj(2025, 10, 12, 14, 0), ended_at=bj(2025, 10, 12, 15, 30),
                  result="partial"),
            Drill(plan_id=platform.id, title="网络中断演练", scheduled_for=date(2025, 12, 1), state="scheduled"),
            Drill(plan_id=platform.id, title="上年演练", scheduled_for=date(2024, 12, 30), state="completed",
                  started_at=bj(2024, 12, 30, 9, 0), ended_at=bj(2024, 12, 30, 10, 0), result="passed"),
        ])
        common = dict(finding="发现问题", requirement="限期整改")
        s.add_all([
            Rectification(number="ZG-2025-0001", target="vendor", title="日志留存不足", due_date=date(2025, 5, 31),
                          state="accepted", closed_at=bj(2025, 5, 31, 23, 0), answered_at=bj(2025, 5, 31, 20, 0),
                          **common),
            Rectification(number="ZG-2025-0002", target="vendor", title="补丁更新滞后", due_date=date(2025, 8, 15),
                          state="accepted", closed_at=bj(2025, 8, 20, 10, 0), answered_at=bj(2025, 8, 19, 16, 0),
                          **common),
            Rectification(number="ZG-2025-0003", target="vendor", title="已撤回的通知", due_date=date(2025, 12, 10),
                          state="withdrawn", **common),
            Rectification(number="ZG-2025-0004", target="department", department_id=seed.dept_a, title="部门整改",
                          due_date=date(2025, 6, 30), state="issued", **common),
            Rectification(number="ZG-2025-0005", target="vendor", title="弱口令整改", due_date=date(2025, 11, 30),
                          state="issued", **common),
        ])
        s.commit()
        for key, year, quarter, scores, reason in (
                ("dept", 2025, 1, (5, 4, 4), ""), ("dept", 2025, 2, (3, 3, 2), "故障处置偏慢"),
                ("dept_b", 2025, 1, (4, 4, 5), ""), ("dept_b", 2025, 3, (2, 1, 2), "多次响应不及时")):
            user = s.get(User, seed.user_ids[key])
            evaluation.rate(s, RequestInfo(actor=user), app.config, year=year, quarter=quarter,
                            attitude=scores[0], response=scores[1], resolution=scores[2], low_reason=reason,
                            now=evaluation.window_of(year, quarter, 30)[0].replace(day=10))


EXPECTED = {  # indicator: (achieved, out of, points)
    "sla": (2, 3, "20.00"), "response": (2, 4, "7.50"), "resolution": (2, 4, "7.50"),
    "drills": (2, 3, "6.67"), "rectifications": (1, 3, "3.33"), "ratings": (39, 60, "13.00"),
}


def test_the_annual_assessment_from_seeded_data_checked_by_hand(app, seed, api, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "EVALUATION_DRILLS_PER_YEAR", 3)
    seed_2025(app, seed)
    assert api.post("vendor", "/evaluation/assessments", {"year": 2025}).status_code == 403
    assert api.post("dept", "/evaluation/assessments", {"year": 2025}).status_code == 403
    for bad in ({"year": 1999}, {"year": "2025"}, {"year": 2025, "weights": {"sla": 100}},
                {"year": 2025, "weights": {"sla": 101, "response": 0, "resolution": 0, "drills": 0,
                                           "rectifications": 0, "ratings": 0}},
                {"year": 2025, "weights": {"sla": 50, "response": 0, "resolution": 0, "drills": 0,
                                           "rectifications": 0, "ratings": 0}}):  # sums to 50
        assert api.post("bureau", "/evaluation/assessments", bad).status_code == 422, bad
    assert _count(app, VendorAssessment, VendorAssessment.year == 2025) == 0

    made = api.post("bureau", "/evaluation/assessments", {"year": 2025})
    assert made.status_code == 200, made.get_json()
    sheet = made.get_json()
    assert sheet["state"] == "draft" and sheet["weights"] == {"sla": 30, "response": 15, "resolution": 15,
                                                               "drills": 10, "rectifications": 10, "ratings": 20}
    got = {i["key"]: (i["achieved"], i["out_of"], i["points"]) for i in sheet["indicators"]}
    assert got == EXPECTED
    assert Decimal(sheet["total"]) == Decimal("58.00") == sum(Decimal(p) for _a, _o, p in EXPECTED.values())
    rows = {i["key"]: i["rows"] for i in sheet["indicators"]}
    assert [r[:2] + r[6:] for r in rows["sla"]] == [
        ["乙局", "办公系统", "99.8858%", "否"], ["甲局", "办公系统", "99.9829%", "是"], ["甲局", "门户网站", "100.0000%", "是"]]
    assert [r[2:6] for r in rows["sla"]] == [[525600.0, 0.0, 600.0, 1], [525600.0, 30.0, 90.0, 1],
                                            [525600.0, 30.0, 0.0, 0]]
    assert [(r[6], r[7]) for r in rows["response"]] == [(17.0, "是"), (45.0, "否"), (25.0, "是"), ("—", "否")]
    assert [(r[6], r[7]) for r in rows["resolution"]] == [(117.0, "是"), (595.0, "否"), (25.0, "是"), ("—", "否")]
    assert [r[1] for r in rows["drills"]] == ["主存储故障切换演练", "办公系统恢复演练"]
    assert [(r[0], r[-1]) for r in rows["rectifications"]] == [("ZG-2025-0001", "是"), ("ZG-2025-0002", "否"),
                                                               ("ZG-2025-0005", "否")]
    assert [r[5] for r in rows["ratings"]] == [13, 13, 8, 5]

    # other weights are the bureau's choice: everything on the ratings -> 100 x 39/60 = 65.00
    assessment_id = sheet["id"]
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "assessment.compute")).one()
    assert event.after["total"] == "58.00"

    # the pages: the bureau's sheet with the figures, the vendor reads it, a department may not
    bureau = login_as("bureau")
    html = bureau.get(f"/evaluation/assessments/{assessment_id}").get_data(as_text=True)
    assert 'id="assessment-total">58.00<' in html and "99.9829%" in html and "ZG-2025-0005" in html
    assert login_as("vendor").get(f"/evaluation/assessments/{assessment_id}").status_code == 200
    assert login_as("dept").get(f"/evaluation/assessments/{assessment_id}").status_code == 403
    assert api.get("dept", f"/evaluation/assessments/{assessment_id}").status_code == 403

    # the XLSX: the summary with the total, a sheet per indicator with its rows
    xlsx = bureau.get(f"/evaluation/assessments/{assessment_id}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(xlsx.get_data()))
    summary = [[c.value for c in row] for row in book["汇总"].iter_rows()]
    assert summary[0][0] == "云服务商服务质量考核评分表（2025年度）"
    assert summary[1] == ["指标", "权重（分）", "计算方法", "完成 / 应完成", "得分"]
    assert [(r[0], r[1], r[3], Decimal(str(r[4])).quantize(Decimal("0.01"))) for r in summary[2:9]] == [
        ("服务等级（可用率）", 30, "2 / 3", Decimal("20.00")), ("故障响应", 15, "2 / 4", Decimal("7.50")),
        ("故障处置", 15, "2 / 4", Decimal("7.50")), ("应急演练", 10, "2 / 3", Decimal("6.67")),
        ("整改按期办结", 10, "1 / 3", Decimal("3.33")), ("使用部门评价", 20, "39 / 60", Decimal("13.00")),
        ("合计", 100, None, Decimal("58.00"))]
    assert book.sheetnames == ["汇总", "服务等级（可用率）", "故障响应", "故障处置", "应急演练", "整改按期办结", "使用部门评价"]
    assert [c.value for c in book["使用部门评价"][4]][:6] == ["甲局", "第2季度", 3, 3, 2, 8]

    # sign it: frozen; recompute and a second signature are refused (409), the figures stay
    page = bureau.get(f"/evaluation/assessments/{assessment_id}")
    token = csrf_token_from(page.get_data(as_text=True))
    signed = bureau.post(f"/evaluation/assessments/{assessment_id}/sign", data={"csrf_token": token,
                                                                              "comment": "经局务会审定"})
    assert signed.status_code == 302
    assert bureau.post(f"/evaluation/assessments/{assessment_id}/recompute",
                       data={"csrf_token": token}).status_code == 409
    assert api.post("bureau", f"/evaluation/assessments/{assessment_id}/recompute").status_code == 409
    assert api.post("bureau", "/evaluation/assessments", {"year": 2025}).status_code == 409
    assert api.post("bureau", f"/evaluation/assessments/{assessment_id}/sign", {"comment": "再签"}).status_code == 409
    frozen = api.get("vendor", f"/evaluation/assessments/{assessment_id}").get_json()
    assert frozen["state"] == "signed" and frozen["total"] == "58.00" and frozen["content_hash"] == sheet["content_hash"]
    with app.app_context():
        told = set(db.session.scalars(select(User.username).join(Notification, Notification.user_id == User.id)
                                      .where(Notification.topic == f"assessment:{assessment_id}",
                                             Notification.channel == "inbox")))
        actions = list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "vendor_assessment", AuditEvent.outcome == "success").order_by(AuditEvent.id)))
    assert told == {"bureau1", "vendor1"}
    assert actions == ["assessment.compute", "document.downloaded", "assessment.sign"]  # the XLSX download too

    # the PDF of the signed sheet, rendered to PNG to be looked at
    pdf = login_as("auditor").get(f"/evaluation/assessments/{assessment_id}/export.pdf")
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    assert shutil.which("pdftoppm"), "pdftoppm (poppler-utils) is needed to look at the PDF"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"assessment-pdf-{app.backend}"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-", str(target)], input=pdf.get_data(), check=True)
    pages = sorted(ARTIFACTS.glob(f"assessment-pdf-{app.backend}-*.png"))
    assert pages and all(p.stat().st_size > 10_000 for p in pages)
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.get_data(), capture_output=True, check=True).stdout.decode()
    assert "58.00" in text and "已签发" in text and "99.9829%" in text


def test_other_weights_and_an_indicator_without_data(app, seed, monkeypatch):
    """The weights are the bureau's: all 100 points on the ratings gives 100 x 39/60 = 65.00. A year
    without any incident or rating scores those indicators in full (no data), and says so."""
    monkeypatch.setitem(app.config, "EVALUATION_DRILLS_PER_YEAR", 3)
    seed_2025(app, seed)
    with app.app_context():
        bureau = db.session.get(User, seed.user_ids["bureau"])
        weights = dict.fromkeys(evaluation.INDICATORS, 0) | {"ratings": 100}
        sheet = evaluation.compute(db.session, RequestInfo(actor=bureau), app.config, 2025, weights)
        assert sheet.total == Decimal("65.00")
        empty = evaluation.compute(db.session, RequestInfo(actor=bureau), app.config, 2023)
        marks = {i["key"]: (i["no_data"], i["points"]) for i in empty.indicators}
    # 2023: no incident, no rating, no rectification; the systems were up all year; no drill (0 of 3)
    assert marks == {"sla": (False, "30.00"), "response": (True, "15.00"), "resolution": (True, "15.00"),
                     "drills": (False, "0.00"), "rectifications": (True, "10.00"), "ratings": (True, "20.00")}


@pytest.mark.parametrize("score", [1, 2])
def test_a_low_score_needs_a_reason_in_the_service_too(app, seed, score):
    with app.app_context():
        user = db.session.get(User, seed.user_ids["dept"])
        with pytest.raises(evaluation.ValidationFailed) as refused:
            evaluation.rate(db.session, RequestInfo(actor=user), app.config, year=2025, quarter=4, attitude=score,
                            response=5, resolution=5, now=bj(2026, 1, 5))
        assert refused.value.field == "low_reason"
        rating = evaluation.rate(db.session, RequestInfo(actor=user), app.config, year=2025, quarter=4,
                                 attitude=3, response=5, resolution=5, now=bj(2026, 1, 5))  # 3 is not low
        assert rating.low_reason == ""
