"""The money of a project (第十二条) and its files, on the projects' blueprint: the money page (estimate,
investment in effect, contracts and payments, investment changes, cloud fees to date), the
department's records, the bureau's decision on a change over 10 %, and the 申报表, dossier and
annual plan as XLSX and PDF. Thin views: services/project_money.py and project_exports.py decide."""
from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange

from ..access import require
from ..audit_hooks import mark_download
from ..errors import ValidationFailed
from ..extensions import db
from ..forms_common import length, optional, required
from ..models.accounts import Role
from ..models.project_money import CHANGE_STATE_LABELS
from ..services import project_exports, project_money as money, projects as svc
from ..web import request_info
from .blueprint import READERS, VIEWERS, _settings, bp


def _amount(label):
    return DecimalField(label, places=2, validators=[required(), NumberRange(min=0.01, max=999999999999)])


class ChangeForm(FlaskForm):
    new_amount = _amount(_l("Total investment after the change (yuan)"))
    reason = TextAreaField(_l("Reason for the change"), validators=[required(), length(4000)])
    submit = SubmitField(_l("Record the investment change"))


class ChangeDecisionForm(FlaskForm):
    change_id = HiddenField(validators=[required(), length(12)])
    decision = SelectField(_l("Decision"), choices=[SelectChoice("approve", _l("Approve")),
                                                    SelectChoice("reject", _l("Reject"))])
    comment = TextAreaField(_l("Opinion (required to reject)"), validators=[optional(), length(4000)])
    submit = SubmitField(_l("Decide the change"))


class ContractForm(FlaskForm):
    number = StringField(_l("Contract number"), validators=[required(), length(64)])
    title = StringField(_l("Contract title"), validators=[required(), length(200)])
    supplier = StringField(_l("Supplier"), validators=[required(), length(200)])
    amount = _amount(_l("Contract amount (yuan)"))
    signed_on = DateField(_l("Signed on"), format="%Y-%m-%d", validators=[required()])
    submit = SubmitField(_l("Record the contract"))


class PaymentForm(FlaskForm):
    contract_id = SelectField(_l("Contract"), coerce=int, choices=[])
    amount = _amount(_l("Amount paid (yuan)"))
    paid_on = DateField(_l("Paid on"), format="%Y-%m-%d", validators=[required()])
    voucher = StringField(_l("Voucher number"), validators=[optional(), length(64)])
    submit = SubmitField(_l("Record the payment"))


@bp.app_template_global("project_money")
def project_money(project):
    """The project's figures for its page (estimate, investment, contracted, paid, cloud fees)."""
    return money.summary(db.session, project)


def _payment_form(project, formdata=None):
    form = PaymentForm(formdata=formdata) if formdata is not None else PaymentForm()
    form.contract_id.choices = [(c.id, f"{c.number} · {c.title}") for c in money.contracts_of(db.session, project.id)]
    return form


@bp.route("/<int:project_id>/money")
@require(*VIEWERS)
def money_page(project_id):
    project = svc.get_project(db.session, current_user, project_id)
    contracts = money.contracts_of(db.session, project.id)
    return render_template(
        "projects/money.html", project=project, figures=money.summary(db.session, project), contracts=contracts,
        paid={c.id: money.paid_total(db.session, contract_id=c.id) for c in contracts},
        changes=money.changes_of(db.session, project.id), CHANGE_STATE_LABELS=CHANGE_STATE_LABELS,
        is_owner=current_user.role == Role.DEPARTMENT, is_bureau=current_user.role == Role.BUREAU,
        change_form=ChangeForm(formdata=None), contract_form=ContractForm(formdata=None),
        payment_form=_payment_form(project, formdata=None), decision_form=ChangeDecisionForm(formdata=None))


def record(project_id, form, call, done, page="projects.money_page"):
    """Validate form, run call(project, form) and commit; flash done or each problem; back to page
    (the money page, or the evaluation page: portal/projects/evaluation.py)."""
    project = svc.get_project(db.session, current_user, project_id)  # another department's: 404 first
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "danger")
    else:
        try:
            call(project, form)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            flash(done, "success")
    return redirect(url_for(page, project_id=project_id))


@bp.route("/<int:project_id>/money/change", methods=["POST"])
@require(Role.DEPARTMENT)
def money_change(project_id):
    def call(project, form):
        change = money.request_change(db.session, request_info(), project, form.new_amount.data, form.reason.data,
                                      _settings())
        if change.state == "pending":
            flash(_("The change exceeds the approved estimate by more than 10 percent: it takes effect once the "
                    "big-data bureau approves it (article 12)."), "info")
    return record(project_id, ChangeForm(), call, _("The investment change is recorded."))


@bp.route("/<int:project_id>/money/changes/decision", methods=["POST"])
@require(Role.BUREAU)
def money_decide(project_id):
    form = ChangeDecisionForm()

    def call(project, form):
        change = money.get_change(db.session, current_user, int(form.change_id.data))
        if change.project_id != project.id:
            raise ValidationFailed(_("Not a valid choice."))
        money.decide_change(db.session, request_info(), change, form.decision.data, form.comment.data, _settings())
    return record(project_id, form, call, _("The decision is recorded."))


@bp.route("/<int:project_id>/money/contract", methods=["POST"])
@require(Role.DEPARTMENT)
def money_contract(project_id):
    def call(project, form):
        money.add_contract(db.session, request_info(), project, number=form.number.data, title=form.title.data,
                           supplier=form.supplier.data, amount=form.amount.data, signed_on=form.signed_on.data)
    return record(project_id, ContractForm(), call, _("The contract is recorded."))


@bp.route("/<int:project_id>/money/payment", methods=["POST"])
@require(Role.DEPARTMENT)
def money_payment(project_id):
    project = svc.get_project(db.session, current_user, project_id)

    def call(project, form):
        contract = money.get_contract(db.session, current_user, form.contract_id.data)
        money.add_payment(db.session, request_info(), project, contract, amount=form.amount.data,
                          paid_on=form.paid_on.data, voucher=form.voucher.data)
    return record(project_id, _payment_form(project), call, _("The payment is recorded."))


# -- files ------------------------------------------------------------------------------------

def _file(kind, ident, made):
    data, mimetype, filename = made
    mark_download(kind, ident)
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})


def _declare_files(fmt):
    @require(*VIEWERS)
    def declaration(project_id):
        project = svc.get_project(db.session, current_user, project_id)
        return _file("project", project.id, project_exports.declaration(project, fmt))

    @require(*VIEWERS)
    def dossier(project_id):
        project = svc.get_project(db.session, current_user, project_id)
        return _file("project", project.id, project_exports.dossier(db.session, project, fmt))

    @require(*READERS)
    def plan(year):
        return _file("annual_plan", year, project_exports.annual_plan(db.session, current_user, year, fmt))

    bp.add_url_rule(f"/<int:project_id>/declaration.{fmt}", f"declaration_{fmt}", declaration)
    bp.add_url_rule(f"/<int:project_id>/dossier.{fmt}", f"dossier_{fmt}", dossier)
    bp.add_url_rule(f"/plan/<int:year>.{fmt}", f"plan_{fmt}", plan)


for _fmt in project_exports.FORMATS:
    _declare_files(_fmt)
