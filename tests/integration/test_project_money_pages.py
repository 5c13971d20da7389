"""The money page of a project (第十二条) and its files on the pages: the department records a change
over 10 % (it waits), the bureau approves it, contracts and payments; another department gets 404."""
import io
from decimal import Decimal

from openpyxl import load_workbook

from portal.models.project_money import InvestmentChange
from tests.conftest import csrf_token_from
from tests.project_money_support import make_project


def post(client, url, page, data):
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, **data})
    response.close()
    return response


def test_the_money_page_of_a_project(app, seed, login_as, db_session):
    project = make_project(db_session, seed.dept_a, approved_estimate="1000000.00")
    dept, bureau = login_as("dept"), login_as("bureau")
    page = f"/projects/{project.id}/money"
    html = dept.get(page).get_data(as_text=True)
    assert "项目资金" in html and 'id="change-form"' in html and "1000000.00" in html
    assert post(dept, f"/projects/{project.id}/money/change", page,
                {"new_amount": "1100100.00", "reason": "增加模块"}).status_code == 302
    html = dept.get(page).get_data(as_text=True)
    assert "待市大数据管理局批准" in html and 'id="change-form"' not in html  # one waits at a time
    change = db_session.query(InvestmentChange).filter_by(project_id=project.id).one()
    assert change.state == "pending"
    html = bureau.get(page).get_data(as_text=True)
    assert 'id="change-decision-form"' in html
    assert post(bureau, f"/projects/{project.id}/money/changes/decision", page,
                {"change_id": str(change.id), "decision": "approve", "comment": "同意"}).status_code == 302
    db_session.refresh(change)
    assert change.state == "approved"
    assert post(dept, f"/projects/{project.id}/money/contract", page, {
        "number": "HT-9", "title": "开发", "supplier": "某公司", "amount": "600000.00",
        "signed_on": "2026-05-01"}).status_code == 302
    contract_id = project_contract_id(db_session, project.id)
    assert post(dept, f"/projects/{project.id}/money/payment", page, {
        "contract_id": str(contract_id), "amount": "700000.00", "paid_on": "2026-06-01"}).status_code == 302
    html = dept.get(page).get_data(as_text=True)
    assert "支付金额合计将超过合同金额" in html  # refused, said in Chinese
    post(dept, f"/projects/{project.id}/money/payment", page,
         {"contract_id": str(contract_id), "amount": "200000.00", "paid_on": "2026-06-01"})
    detail = dept.get(f"/projects/{project.id}").get_data(as_text=True)
    for figure in ('id="money-investment">1100100.00', 'id="money-contracted">600000.00', 'id="money-paid">200000.00'):
        assert figure in detail, figure
    assert login_as("dept_b").get(page).status_code == 404
    response = bureau.get(f"/projects/{project.id}/dossier.xlsx")
    book = load_workbook(io.BytesIO(response.data))
    response.close()
    money = {r[0]: r[1] for r in book["资金"].iter_rows(min_row=3, values_only=True)}
    assert Decimal(str(money["已支付（元）"])) == Decimal("200000.00")
    response = login_as("dept_b").get(f"/projects/{project.id}/dossier.pdf")
    assert response.status_code == 404
    response.close()


def project_contract_id(db_session, project_id):
    from portal.models.project_money import ProjectContract
    return db_session.query(ProjectContract.id).filter_by(project_id=project_id).scalar()


def test_the_evaluation_pages_of_each_role(app, seed, login_as, db_session):
    from datetime import date

    from portal.models.projects import ExpertAssignment, ProjectState
    project = make_project(db_session, seed.dept_a, state=ProjectState.IN_USE, accepted_on=date(2026, 1, 10))
    db_session.add(ExpertAssignment(project_id=project.id, expert_id=seed.user_ids["expert"], stage="evaluation"))
    db_session.commit()
    bureau, expert, dept = login_as("bureau"), login_as("expert"), login_as("dept")
    page = f"/projects/{project.id}/evaluation"
    assert 'id="evaluation-link"' in dept.get(f"/projects/{project.id}").get_data(as_text=True)
    assert post(bureau, page + "/open", page, {}).status_code == 302
    html = expert.get(page).get_data(as_text=True)
    assert 'id="scores-form"' in html and "系统运行稳定性与可用率" in html
    keys = ("availability", "security", "maintenance", "business_effect", "data_sharing", "satisfaction")
    post(expert, page + "/scores", page, {**{f"score-{k}": "90" for k in keys[:3]},
                                          **{f"score-{k}": "80" for k in keys[3:]}, "opinion": "运行良好"})
    post(dept, page + "/self", page, {"self_assessment": "系统运行平稳", "self_score": "95"})
    post(bureau, page + "/complete", page, {"conclusion": "达到预期目标"})
    html = dept.get(page).get_data(as_text=True)
    assert 'id="evaluation-total">85.00<' in html and "良好" in html and "评估已完成" in html
    assert 'id="score-list"' not in html  # each expert's marks: the bureau's and the auditor's
    assert 'id="score-list"' in login_as("auditor").get(page).get_data(as_text=True)
    assert login_as("dept_b").get(page).status_code == 404
    db_session.refresh(project)
    assert project.state == ProjectState.EVALUATED
