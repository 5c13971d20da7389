"""API of informatization projects (issue 19, regulation 附件1): the projects one may see, the 申报表 and
its declaration, the decisions of the flow of 第七条, the money of 第十二条, the performance evaluation
of 第十七条 and the files (申报表, annual plan, dossier as XLSX and PDF).

Each operation calls the projects' own services, which scope the project (another department's is
404; an expert sees only the projects assigned to them) and check the role again; a change answers
the project's or the record's new state. The services audit every decision with its reason.
"""
from decimal import Decimal

from flask import Response, current_app, g

from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..models.accounts import Role
from ..models.project_money import PerformanceEvaluation
from ..pagination import paginate
from ..schemas import projects as schemas
from ..services import project_exports, project_money as money, project_performance as perf, projects as svc
from ..text import _l
from .common import READ_ERRORS, REQUEST_ERRORS, WRITE_ERRORS, allow, bp, ctx
from .routing import dump, operation

TAG = "projects"
VIEWERS = svc.VIEWERS
BINARY = {"xlsx": project_exports.XLSX, "pdf": "application/pdf"}


def _settings():
    return current_app.config


def _project(project_id):
    allow(*VIEWERS)
    return svc.get_project(db.session, g.api_user, project_id)


def _detail(project, status=200):
    return dump(schemas.ProjectDetail.model_validate(project)), status


def _amount(text):
    return None if text is None else Decimal(text)


@operation(bp, "/projects", "GET", "listProjects",
           "List the informatization projects you may see (a department its own, an expert those assigned)",
           tag=TAG, query=schemas.ProjectQuery, response=schemas.ProjectList, errors=READ_ERRORS)
def list_projects(query):
    allow(*VIEWERS)
    stmt = svc.projects_select(g.api_user, state=query.state, year=query.year, q=query.q)
    page = paginate(db.session, stmt, query.page, query.per_page)
    return dump(schemas.ProjectList(items=[schemas.ProjectSummary.model_validate(p) for p in page.items],
                                    page=page.page, pages=page.pages, total=page.total))


@operation(bp, "/projects", "POST", "createProject", "A department starts a project: a draft of the 申报表",
           tag=TAG, body=schemas.ProjectCreate, response=schemas.ProjectDetail, status=201, errors=WRITE_ERRORS,
           idempotent=True)
def create_project(body):
    allow(Role.DEPARTMENT)
    data = body.model_dump()
    data["estimate"] = Decimal(data["estimate"])
    return _detail(svc.create_project(db.session, ctx(), data, _settings()), 201)


@operation(bp, "/projects/<int:project_id>", "GET", "getProject", "Read a project's 申报表 and where it stands",
           tag=TAG, response=schemas.ProjectDetail, errors=READ_ERRORS)
def get_project(project_id):
    return _detail(_project(project_id))


@operation(bp, "/projects/<int:project_id>/declaration", "POST", "declareProject",
           "The department declares its project (in the annual window; outside it only urgent, with the reason, "
           "第八条)", tag=TAG, body=schemas.Declaration, response=schemas.ProjectDetail, errors=WRITE_ERRORS)
def declare_project(project_id, body):
    allow(Role.DEPARTMENT)
    return _detail(svc.declare(db.session, ctx(), project_id, _settings(), urgent_reason=body.urgent_reason))


@operation(bp, "/projects/<int:project_id>/decisions", "GET", "listProjectDecisions",
           "The decisions on a project (who, stage, outcome, document, date, opinion, reason)", tag=TAG,
           response=schemas.DecisionList, errors=READ_ERRORS)
def list_decisions(project_id):
    project = _project(project_id)
    return dump(schemas.DecisionList(items=[schemas.DecisionOut.model_validate(d) for d in project.decisions]))


def _decide(project_id, body):
    """Call the projects' service of the decision's action (each checks the bureau's role itself)."""
    s, c, a = db.session, ctx(), body.action
    if a in ("feasibility", "design_review", "acceptance") and body.passed is None:
        raise ValidationFailed(_l("Say whether it passed."), field="passed")  # never a refusal by omission
    if a == "start_review":
        return svc.start_review(s, c, project_id)
    if a == "review":
        return svc.decide_review(s, c, project_id, body.outcome, checklist=body.checklist, opinion=body.opinion,
                                 reason=body.reason, settings=_settings())
    if a == "add_to_plan":
        return svc.add_to_plan(s, c, project_id, body.reason)
    if a == "admit_urgent":
        return svc.admit_urgent(s, c, project_id, body.reason, settings=_settings())
    if a == "feasibility":
        return svc.record_feasibility(s, c, project_id, bool(body.passed), body.document_number, body.decided_on,
                                      opinion=body.opinion, reason=body.reason, settings=_settings())
    if a == "design_review":
        return svc.record_design_review(s, c, project_id, bool(body.passed), body=body.body, reviewer=body.reviewer,
                                        opinion=body.opinion, reason=body.reason,
                                        approved_estimate=_amount(body.approved_estimate),
                                        approved_scope=body.approved_scope, document_number=body.document_number,
                                        decided_on=body.decided_on, settings=_settings())
    return svc.record_acceptance(s, c, project_id, bool(body.passed), body.held_on, opinion=body.opinion,
                                 rectification_items=body.rectification_items,
                                 rectification_deadline=body.rectification_deadline,
                                 document_number=body.document_number, settings=_settings())


@operation(bp, "/projects/<int:project_id>/decisions", "POST", "decideProject",
           "The bureau decides (or records the decision of 发改委, the experts, a third party) and the project "
           "moves on: the flow of 第七条", tag=TAG, body=schemas.DecisionIn, response=schemas.ProjectDetail,
           errors=WRITE_ERRORS)
def decide_project(project_id, body):
    allow(Role.BUREAU)
    _decide(project_id, body)
    return _detail(svc.get_project(db.session, g.api_user, project_id))


# -- money (第十二条) ------------------------------------------------------------------------------

def _money(project):
    figures = money.summary(db.session, project)
    changes = money.changes_of(db.session, project.id)
    return dump(schemas.MoneyOut.model_validate({
        "project_id": project.id, "estimate": figures.estimate, "investment": figures.investment,
        "contracted": figures.contracted, "paid": figures.paid, "cloud_fees": figures.fees,
        "fee_months": [{"year": y, "month": m, "amount": a} for y, m, a in figures.fee_months],
        "pending_change": figures.pending, "contracts": money.contracts_of(db.session, project.id),
        "changes": changes}))


@operation(bp, "/projects/<int:project_id>/money", "GET", "getProjectMoney",
           "A project's money: approved estimate, investment in effect, contracts and payments, investment "
           "changes, cloud fees of its systems to date", tag=TAG, response=schemas.MoneyOut, errors=READ_ERRORS)
def get_money(project_id):
    return _money(_project(project_id))


@operation(bp, "/projects/<int:project_id>/investment-changes", "POST", "requestInvestmentChange",
           "The department changes the investment: within 10 % of the approved estimate in effect at once, over "
           "it pending the bureau's approval (第十二条)", tag=TAG, body=schemas.ChangeIn,
           response=schemas.ChangeOut, status=201, errors=WRITE_ERRORS, idempotent=True)
def request_change(project_id, body):
    allow(Role.DEPARTMENT)
    project = _project(project_id)
    change = money.request_change(db.session, ctx(), project, Decimal(body.new_amount), body.reason, _settings())
    db.session.commit()
    return dump(schemas.ChangeOut.model_validate(change)), 201


@operation(bp, "/projects/investment-changes/<int:change_id>/decision", "POST", "decideInvestmentChange",
           "The bureau approves (in effect from now) or rejects (the figures stay) a pending investment change",
           tag=TAG, body=schemas.ChangeDecisionIn, response=schemas.ChangeOut, errors=WRITE_ERRORS)
def decide_change(change_id, body):
    allow(Role.BUREAU)
    change = money.get_change(db.session, g.api_user, change_id)
    money.decide_change(db.session, ctx(), change, body.decision, body.comment, _settings())
    db.session.commit()
    return dump(schemas.ChangeOut.model_validate(change))


@operation(bp, "/projects/<int:project_id>/contracts", "POST", "createProjectContract",
           "The department records a contract (the contracts stay within the investment in effect)", tag=TAG,
           body=schemas.ContractIn, response=schemas.ContractOut, status=201, errors=WRITE_ERRORS, idempotent=True)
def create_contract(project_id, body):
    allow(Role.DEPARTMENT)
    project = _project(project_id)
    contract = money.add_contract(db.session, ctx(), project, number=body.number, title=body.title,
                                  supplier=body.supplier, amount=Decimal(body.amount), signed_on=body.signed_on,
                                  note=body.note)
    db.session.commit()
    return dump(schemas.ContractOut.model_validate(contract)), 201


def _contract(project, contract_id):
    contract = money.get_contract(db.session, g.api_user, contract_id)
    if contract.project_id != project.id:
        raise NotFound("合同", contract_id)
    return contract


@operation(bp, "/projects/<int:project_id>/contracts/<int:contract_id>/amendment", "POST", "amendProjectContract",
           "The department amends a contract's amount (a supplementary agreement): never below what is paid on it, "
           "the contracts within the investment in effect", tag=TAG, body=schemas.AmendmentIn,
           response=schemas.ContractOut, errors=WRITE_ERRORS)
def amend_contract(project_id, contract_id, body):
    allow(Role.DEPARTMENT)
    project = _project(project_id)
    contract = money.amend_contract(db.session, ctx(), project, _contract(project, contract_id),
                                    Decimal(body.amount), body.reason)
    db.session.commit()
    return dump(schemas.ContractOut.model_validate(contract))


@operation(bp, "/projects/<int:project_id>/contracts/<int:contract_id>/payments", "POST", "createProjectPayment",
           "The department records a payment on a contract (never over the contract's amount)", tag=TAG,
           body=schemas.PaymentIn, response=schemas.PaymentOut, status=201, errors=WRITE_ERRORS, idempotent=True)
def create_payment(project_id, contract_id, body):
    allow(Role.DEPARTMENT)
    project = _project(project_id)
    payment = money.add_payment(db.session, ctx(), project, _contract(project, contract_id),
                                amount=Decimal(body.amount), paid_on=body.paid_on, voucher=body.voucher, note=body.note)
    db.session.commit()
    return dump(schemas.PaymentOut.model_validate(payment)), 201


# -- performance evaluation (第十七条) -------------------------------------------------------------

def _evaluation(evaluation, status=200):
    out = schemas.EvaluationOut.model_validate(evaluation)
    user = g.api_user
    if user.role not in (Role.BUREAU, Role.AUDITOR):  # each expert's marks: the bureau's and the auditor's
        out = out.model_copy(update={"scores": [s for s in out.scores if s.expert_id == user.id]})
    return dump(out), status


def _evaluation_of(project_id, evaluation_id):
    project = _project(project_id)
    evaluation = db.session.get(PerformanceEvaluation, evaluation_id)
    if evaluation is None or evaluation.project_id != project.id:
        raise NotFound("绩效评估", evaluation_id)
    return evaluation


@operation(bp, "/projects/<int:project_id>/evaluations", "POST", "openEvaluation",
           "The bureau opens the performance evaluation of a project in use (indicators with weights)", tag=TAG,
           body=schemas.EvaluationOpen, response=schemas.EvaluationOut, status=201, errors=WRITE_ERRORS)
def open_evaluation(project_id, body):
    allow(Role.BUREAU)
    project = _project(project_id)
    indicators = None if body.indicators is None else [i.model_dump() for i in body.indicators]
    evaluation = perf.open_evaluation(db.session, ctx(), project, indicators)
    db.session.commit()
    return _evaluation(evaluation, 201)


@operation(bp, "/projects/<int:project_id>/evaluations/<int:evaluation_id>", "GET", "getEvaluation",
           "Read a performance evaluation (an expert sees its own scores; the bureau and the auditor every one)",
           tag=TAG, response=schemas.EvaluationOut, errors=READ_ERRORS)
def get_evaluation(project_id, evaluation_id):
    return _evaluation(_evaluation_of(project_id, evaluation_id))


@operation(bp, "/projects/<int:project_id>/evaluations/<int:evaluation_id>/scores", "POST", "scoreEvaluation",
           "An expert assigned to the evaluation scores every indicator 0-100", tag=TAG, body=schemas.ScoresIn,
           response=schemas.EvaluationOut, errors=WRITE_ERRORS)
def score_evaluation(project_id, evaluation_id, body):
    allow(Role.EXPERT)
    evaluation = _evaluation_of(project_id, evaluation_id)
    perf.submit_scores(db.session, ctx(), evaluation, dict(body.scores), body.opinion)
    db.session.commit()
    return _evaluation(evaluation)


@operation(bp, "/projects/<int:project_id>/evaluations/<int:evaluation_id>/self-assessment", "POST",
           "selfAssessEvaluation", "The department writes its self-assessment", tag=TAG,
           body=schemas.SelfAssessmentIn, response=schemas.EvaluationOut, errors=WRITE_ERRORS)
def self_assess(project_id, evaluation_id, body):
    allow(Role.DEPARTMENT)
    evaluation = _evaluation_of(project_id, evaluation_id)
    perf.self_assess(db.session, ctx(), evaluation, body.self_assessment, body.self_score)
    db.session.commit()
    return _evaluation(evaluation)


@operation(bp, "/projects/<int:project_id>/evaluations/<int:evaluation_id>/completion", "POST",
           "completeEvaluation", "The bureau completes the evaluation: total, grade; the project is evaluated",
           tag=TAG, body=schemas.ConclusionIn, response=schemas.EvaluationOut, errors=WRITE_ERRORS)
def complete_evaluation(project_id, evaluation_id, body):
    allow(Role.BUREAU)
    evaluation = _evaluation_of(project_id, evaluation_id)
    perf.complete_evaluation(db.session, ctx(), evaluation, body.conclusion)
    db.session.commit()
    return _evaluation(evaluation)


# -- files --------------------------------------------------------------------------------------

def _file(made):
    data, mimetype, filename = made
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})


def _declare_file(fmt, what, rule, operation_id, summary, make):
    @operation(bp, rule, "GET", operation_id, summary, tag=TAG, errors=REQUEST_ERRORS, binary=BINARY[fmt])
    def download(**ident):
        allow(*VIEWERS)
        return _file(make(fmt, *ident.values()))
    download.__name__ = f"{what}_{fmt}"
    return download


for _fmt, _word in (("xlsx", "Excel workbook"), ("pdf", "PDF")):
    _declare_file(_fmt, "declaration", f"/projects/<int:project_id>/declaration.{_fmt}",
                  f"exportProjectDeclaration{_fmt.title()}", f"Download a project's 申报表 as {_word}",
                  lambda fmt, pid: project_exports.declaration(_project(pid), fmt))
    _declare_file(_fmt, "dossier", f"/projects/<int:project_id>/dossier.{_fmt}",
                  f"exportProjectDossier{_fmt.title()}",
                  f"Download a project's dossier (decisions, documents, money, systems, fees, SLA) as {_word}",
                  lambda fmt, pid: project_exports.dossier(db.session, _project(pid), fmt))
    _declare_file(_fmt, "plan", f"/projects/plans/<int:year>.{_fmt}", f"exportAnnualPlan{_fmt.title()}",
                  f"Download a year's annual plan (the projects you may see in it) as {_word}",
                  lambda fmt, year: project_exports.annual_plan(db.session, g.api_user, year, fmt))
