"""The projects' API (issue 19): who sees which project (another department 404, an expert only those
assigned), the declaration, the bureau's decisions, the money of 第十二条 (hostile input refused with 422
and nothing changed), the evaluation, and the files."""
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.models.project_money import InvestmentChange, ProjectContract
from portal.models.projects import ExpertAssignment, Project, ProjectState
from tests.integration.test_api_domains_records import api, auth  # noqa: F401  (the tokens of the seeded users)
from tests.project_money_support import make_project, rich_project

API = "/api/v1"


def call(api, method, url, headers, **kwargs):
    """(status, JSON body) of a call, the response closed."""
    response = api.open(API + url, method=method, headers=headers, **kwargs)
    try:
        return response.status_code, response.get_json(silent=True)
    finally:
        response.close()


def test_who_sees_which_project(app, seed, api, auth, db_session):
    own = make_project(db_session, seed.dept_a, name="甲局项目")
    other = make_project(db_session, seed.dept_b, name="乙局项目")
    db_session.add(ExpertAssignment(project_id=own.id, expert_id=seed.user_ids["expert"], stage="design_review"))
    db_session.commit()
    every = {p.id: p.department_id for p in db_session.scalars(select(Project))}  # the seeded ones too
    assignments = set(db_session.scalars(select(ExpertAssignment.project_id).where(
        ExpertAssignment.expert_id == seed.user_ids["expert"])))
    for key, visible in (("dept", {i for i, d in every.items() if d == seed.dept_a}),
                         ("dept_b", {i for i, d in every.items() if d == seed.dept_b}),
                         ("bureau", set(every)), ("auditor", set(every)), ("expert", assignments)):
        status, body = call(api, "GET", "/projects?per_page=100", auth(key))
        assert status == 200 and {p["id"] for p in body["items"]} == visible, key
    assert own.id in assignments and other.id not in assignments
    for key, project, expected in (("dept", other, 404), ("dept_b", own, 404), ("expert", other, 404),
                                   ("expert", own, 200), ("vendor", own, 403), ("security", own, 403)):
        for path in ("", "/money", "/decisions", "/dossier.pdf", "/declaration.xlsx"):
            status, _ = call(api, "GET", f"/projects/{project.id}{path}", auth(key))
            assert status == expected, (key, path, status)
    assert call(api, "GET", f"/projects/{own.id}", {})[0] == 401


def test_declare_decide_and_the_money_through_the_api(app, seed, api, auth, db_session):
    dept, bureau = auth("dept"), auth("bureau")
    status, created = call(api, "POST", "/projects", dept, json={
        "name": "接口申报项目", "content": "建设内容", "necessity": "必要性", "data_sharing": "共享",
        "schedule": "一年", "responsible_person": "张三", "estimate": "500000.00"})
    assert status == 201 and created["state"] == "draft" and created["estimate"] == "500000.00"
    assert call(api, "POST", "/projects", bureau, json={"name": "x"})[0] == 403
    pid = created["id"]
    # outside the window without documents: 422 with the problems, nothing declared
    status, refused = call(api, "POST", f"/projects/{pid}/declaration", dept, json={})
    assert status == 422 and refused["code"] == "invalid"
    # the money of a project whose design passed
    project = make_project(db_session, seed.dept_a, approved_estimate="1000000.00")
    status, change = call(api, "POST", f"/projects/{project.id}/investment-changes", dept,
                          json={"new_amount": "1100100.00", "reason": "增加模块"})
    assert status == 201 and change["state"] == "pending"
    assert call(api, "POST", f"/projects/investment-changes/{change['id']}/decision", dept,
                json={"decision": "approve"})[0] == 403
    assert call(api, "POST", f"/projects/investment-changes/{change['id']}/decision", auth("dept_b"),
                json={"decision": "approve"})[0] == 403
    status, decided = call(api, "POST", f"/projects/investment-changes/{change['id']}/decision", bureau,
                           json={"decision": "approve", "comment": "同意"})
    assert status == 200 and decided["state"] == "approved"
    status, contract = call(api, "POST", f"/projects/{project.id}/contracts", dept, json={
        "number": "HT-1", "title": "开发", "supplier": "某公司", "amount": "1000000.00", "signed_on": "2026-05-01"})
    assert status == 201
    status, _ = call(api, "POST", f"/projects/{project.id}/contracts/{contract['id']}/payments", dept,
                     json={"amount": "1000000.01", "paid_on": "2026-06-01"})
    assert status == 422  # over the contract's amount
    status, _ = call(api, "POST", f"/projects/{project.id}/contracts/{contract['id']}/payments", dept,
                     json={"amount": "400000.00", "paid_on": "2026-06-01", "voucher": "PZ-9"})
    assert status == 201
    url = f"/projects/{project.id}/contracts/{contract['id']}/amendment"
    assert call(api, "POST", url, dept, json={"amount": "399999.99", "reason": "低于已付"})[0] == 422
    assert call(api, "POST", url, dept, json={"amount": "1100100.01", "reason": "超出投资"})[0] == 422
    status, amended = call(api, "POST", url, dept, json={"amount": "1000000.00", "reason": "补充协议"})
    assert status == 200 and amended["amount"] == "1000000.00" and len(amended["payments"]) == 1
    status, figures = call(api, "GET", f"/projects/{project.id}/money", auth("auditor"))
    assert status == 200
    assert (figures["estimate"], figures["investment"], figures["contracted"], figures["paid"]) == (
        "1000000.00", "1100100.00", "1000000.00", "400000.00")
    assert [c["state"] for c in figures["changes"]] == ["approved"] and figures["pending_change"] is None
    # a bureau decision through the projects' services: the project is where the state machine says
    declared = make_project(db_session, seed.dept_a, state=ProjectState.DECLARED, approved_estimate=None)
    status, moved = call(api, "POST", f"/projects/{declared.id}/decisions", bureau, json={"action": "start_review"})
    assert status == 200 and moved["state"] == "preliminary_review"
    assert call(api, "POST", f"/projects/{declared.id}/decisions", dept, json={"action": "start_review"})[0] == 403
    assert call(api, "POST", f"/projects/{declared.id}/decisions", bureau, json={"action": "start_review"})[0] == 409
    status, refused = call(api, "POST", f"/projects/{project.id}/decisions", bureau,
                           json={"action": "acceptance", "held_on": "2026-06-01", "opinion": "未说明结论"})
    assert status == 422 and refused["problems"][0]["field"] == "passed"  # never a refusal by omission
    status, decisions = call(api, "GET", f"/projects/{declared.id}/decisions", dept)
    assert status == 200 and isinstance(decisions["items"], list)


@pytest.mark.parametrize("body", [
    {"new_amount": 1100100.0, "reason": "浮点数"},            # a JSON number: no float amounts
    {"new_amount": "1e6", "reason": "科学计数"},
    {"new_amount": "-5.00", "reason": "负数"},
    {"new_amount": "1.001", "reason": "三位小数"},
    {"new_amount": "9999999999999.00", "reason": "过大"},
    {"new_amount": "1000.00", "reason": ""},
    {"new_amount": "1000.00", "reason": "x" * 4001},
    {"new_amount": "1000.00", "reason": "控制\x00字符"},
    {"new_amount": "1000.00", "reason": "多余", "state": "approved"},
    {"new_amount": "0", "reason": "零"},
])
def test_hostile_money_is_refused_and_changes_nothing(app, seed, api, auth, db_session, body):
    project = make_project(db_session, seed.dept_a)
    status, answer = call(api, "POST", f"/projects/{project.id}/investment-changes", auth("dept"), json=body)
    assert status == 422, answer
    status, _ = call(api, "POST", f"/projects/{project.id}/contracts", auth("dept"), json={
        "number": "HT", "title": "t", "supplier": "s", "amount": body["new_amount"], "signed_on": "2026-02-30"})
    assert status == 422
    assert db_session.scalar(select(func.count(InvestmentChange.id))) == 0
    assert db_session.scalar(select(func.count(ProjectContract.id))) == 0


def test_an_evaluation_through_the_api_and_experts_only_where_assigned(app, seed, api, auth, db_session):
    project = make_project(db_session, seed.dept_a, state=ProjectState.IN_USE, accepted_on=date(2026, 1, 5))
    bureau, expert, dept = auth("bureau"), auth("expert"), auth("dept")
    status, evaluation = call(api, "POST", f"/projects/{project.id}/evaluations", bureau, json={})
    assert status == 201 and sum(i["weight"] for i in evaluation["indicators"]) == 100
    url = f"/projects/{project.id}/evaluations/{evaluation['id']}"
    scores = {i["key"]: 80 for i in evaluation["indicators"]}
    assert call(api, "POST", url + "/scores", expert, json={"scores": scores})[0] == 404  # not assigned: unseen
    db_session.add(ExpertAssignment(project_id=project.id, expert_id=seed.user_ids["expert"], stage="evaluation"))
    db_session.commit()
    assert call(api, "POST", url + "/scores", expert, json={"scores": {**scores, "extra": 1}})[0] == 422
    assert call(api, "POST", url + "/scores", expert, json={"scores": {**scores, "availability": 101}})[0] == 422
    status, scored = call(api, "POST", url + "/scores", expert, json={"scores": scores, "opinion": "良好"})
    assert status == 200 and [s["weighted"] for s in scored["scores"]] == ["80.00"]
    assert call(api, "POST", url + "/self-assessment", dept, json={"self_assessment": "平稳", "self_score": 90})[0] == 200
    status, done = call(api, "POST", url + "/completion", bureau, json={"conclusion": "合格"})
    assert status == 200 and (done["state"], done["total"], done["grade"]) == ("completed", "80.00", "good")
    status, seen = call(api, "GET", url, dept)
    assert status == 200 and seen["scores"] == []  # each expert's marks are the bureau's and the auditor's
    assert call(api, "GET", f"/projects/{project.id}", dept)[1]["state"] == "evaluated"


def test_the_files_download_as_their_media_types(app, seed, api, auth, db_session):
    project = rich_project(db_session, seed)
    for path, mimetype in ((f"/projects/{project.id}/dossier.xlsx", "spreadsheetml"),
                           (f"/projects/{project.id}/dossier.pdf", "application/pdf"),
                           (f"/projects/{project.id}/declaration.pdf", "application/pdf"),
                           ("/projects/plans/2026.xlsx", "spreadsheetml")):
        response = api.get(API + path, headers=auth("bureau"))
        assert response.status_code == 200 and mimetype in response.mimetype, path
        if path.endswith(".xlsx"):
            load_workbook(io.BytesIO(response.data))
        else:
            assert response.data.startswith(b"%PDF")
        response.close()
    response = api.get(API + "/projects/plans/2026.xlsx", headers=auth("dept_b"))
    sheet = load_workbook(io.BytesIO(response.data))["年度计划"]
    response.close()
    assert [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)] == ["合计"]  # 乙局 has none in it
    assert call(api, "GET", "/projects/plans/1999.pdf", auth("bureau"))[0] == 404
