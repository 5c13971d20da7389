"""Forms of the project pages (附件1): the 申报表, documents, and each decision."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, DecimalField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange

from ..forms_common import PHONE, length, optional, required
from ..models.projects import (CONSTRUCTION_KIND_LABELS, DOCUMENT_PURPOSE_LABELS, EXPERT_CONCLUSION_LABELS,
                               FUNDING_SOURCE_LABELS, PROJECT_TYPE_LABELS, REVIEW_CHECKLIST_LABELS, DecisionBody,
                               DecisionStage)


def _choices(labels):
    return [SelectChoice(k.value, v) for k, v in labels.items()]


def _date(label):
    return DateField(label, format="%Y-%m-%d", validators=[optional()])


def _amount(label):
    return DecimalField(label, places=2, validators=[optional(), NumberRange(min=0, max=999999999999)])


class ProjectForm(FlaskForm):
    """《信息化及智慧城市建设项目申报表》 (第七条(一), 第十三条)."""

    name = StringField(_l("Project name"), validators=[required(), length(200)])
    project_type = SelectField(_l("Project type"), choices=_choices(PROJECT_TYPE_LABELS))
    construction_kind = SelectField(_l("Construction kind"), choices=_choices(CONSTRUCTION_KIND_LABELS))
    content = TextAreaField(_l("Construction content"), validators=[optional(), length(20000)])
    necessity = TextAreaField(_l("Necessity"), validators=[optional(), length(20000)])
    on_government_cloud = BooleanField(_l("Developed, deployed and run on the government cloud (article 4)"),
                                       default=True)
    cloud_exemption = TextAreaField(_l("If not on the government cloud: the law or superior rule that allows it"),
                                    validators=[optional(), length(20000)])
    data_sharing = TextAreaField(_l("Data resource sharing and opening"), validators=[optional(), length(20000)])
    estimate = _amount(_l("Estimated investment (yuan)"))
    funding_source = SelectField(_l("Funding source"), choices=_choices(FUNDING_SOURCE_LABELS))
    funding_note = TextAreaField(_l("Funding plan"), validators=[optional(), length(20000)])
    schedule = TextAreaField(_l("Construction schedule"), validators=[optional(), length(20000)])
    planned_start = _date(_l("Planned start"))
    planned_end = _date(_l("Planned end"))
    responsible_person = StringField(_l("Responsible person (article 13)"), validators=[optional(), length(64)])
    responsible_phone = StringField(_l("Responsible person's telephone"), validators=[optional(), length(32), PHONE])
    leader = StringField(_l("Leader in charge"), validators=[optional(), length(64)])
    save = SubmitField(_l("Save draft"))

    FIELDS = ("name", "project_type", "construction_kind", "content", "necessity", "on_government_cloud",
              "cloud_exemption", "data_sharing", "estimate", "funding_source", "funding_note", "schedule",
              "planned_start", "planned_end", "responsible_person", "responsible_phone", "leader")

    def data_for_service(self):
        return {f: self[f].data for f in self.FIELDS}

    def fill(self, project):
        for f in self.FIELDS:
            self[f].data = getattr(project, f)


class DocumentForm(FlaskForm):
    purpose = SelectField(_l("Document"), choices=_choices(DOCUMENT_PURPOSE_LABELS))
    document = FileField(_l("File (PDF, Word or Excel, at most 10 MB)"))
    upload = SubmitField(_l("Upload"))


class DeclareForm(FlaskForm):
    urgent_reason = TextAreaField(_l("Urgent project outside the annual plan: the reason (article 8)"),
                                  validators=[optional(), length(4000)])
    declare = SubmitField(_l("Declare to the big-data bureau"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[optional(), length(4000)])
    submit = SubmitField(_l("Confirm"))


class ReviewForm(FlaskForm):
    """The bureau's 初审 (第七条(二))."""

    fits_plan = BooleanField(REVIEW_CHECKLIST_LABELS["fits_plan"])
    on_cloud = BooleanField(REVIEW_CHECKLIST_LABELS["on_cloud"])
    data_sharing = BooleanField(REVIEW_CHECKLIST_LABELS["data_sharing"])
    technology = BooleanField(REVIEW_CHECKLIST_LABELS["technology"])
    opinion = TextAreaField(_l("Review opinion"), validators=[optional(), length(20000)])
    reason = TextAreaField(_l("Reason (for a return or a rejection)"), validators=[optional(), length(4000)])
    passed = SubmitField(_l("Pass the preliminary review"))
    send_back = SubmitField(_l("Return for revision"))
    reject = SubmitField(_l("Reject"))

    def checklist(self):
        return {k: bool(self[k].data) for k in REVIEW_CHECKLIST_LABELS}


EXPERT_STAGE_CHOICES = [SelectChoice(DecisionStage.PRELIMINARY_REVIEW.value, _l("Preliminary review")),
                        SelectChoice(DecisionStage.DESIGN_REVIEW.value, _l("Design and estimate review")),
                        SelectChoice(DecisionStage.ACCEPTANCE.value, _l("Acceptance")),
                        SelectChoice(DecisionStage.EVALUATION.value, _l("Performance evaluation"))]


class AssignForm(FlaskForm):
    expert_id = SelectField(_l("Expert"), coerce=int, choices=[], validate_choice=False)
    stage = SelectField(_l("Stage"), choices=EXPERT_STAGE_CHOICES)
    due_on = _date(_l("Opinion due by"))
    assign = SubmitField(_l("Ask for an opinion"))


class OpinionForm(FlaskForm):
    conclusion = SelectField(_l("Conclusion"), choices=_choices(EXPERT_CONCLUSION_LABELS))
    fits_plan = BooleanField(REVIEW_CHECKLIST_LABELS["fits_plan"])
    on_cloud = BooleanField(REVIEW_CHECKLIST_LABELS["on_cloud"])
    data_sharing = BooleanField(REVIEW_CHECKLIST_LABELS["data_sharing"])
    technology = BooleanField(REVIEW_CHECKLIST_LABELS["technology"])
    opinion = TextAreaField(_l("Opinion"), validators=[optional(), length(20000)])
    give = SubmitField(_l("Give the opinion"))

    def checklist(self):
        return {k: bool(self[k].data) for k in REVIEW_CHECKLIST_LABELS}


class PlanActionForm(FlaskForm):
    action = HiddenField(validators=[optional(), length(32)])
    reason = TextAreaField(_l("Reason"), validators=[optional(), length(4000)])
    submit = SubmitField(_l("Confirm"))


class DocumentDecisionForm(FlaskForm):
    """A decision of an outside body recorded with its document (市政府, 发改委)."""

    document_number = StringField(_l("Document number"), validators=[optional(), length(120)])
    decided_on = _date(_l("Date of the document"))
    opinion = TextAreaField(_l("Opinion"), validators=[optional(), length(20000)])
    reason = TextAreaField(_l("Reason (for a refusal)"), validators=[optional(), length(4000)])
    refused = StringField(_l("Projects not approved (numbers, separated by commas)"),
                          validators=[optional(), length(2000)])
    approve = SubmitField(_l("Approved"))
    refuse = SubmitField(_l("Not approved"))


class DesignReviewForm(FlaskForm):
    body = SelectField(_l("Reviewed by"), choices=[SelectChoice(DecisionBody.EXPERT.value, _l("Expert panel")),
                                                   SelectChoice(DecisionBody.THIRD_PARTY.value,
                                                                _l("Third-party reviewer"))])
    reviewer = StringField(_l("Panel or institution"), validators=[optional(), length(200)])
    approved_estimate = _amount(_l("Approved estimate (yuan)"))
    approved_scope = TextAreaField(_l("Approved construction scope"), validators=[optional(), length(20000)])
    document_number = StringField(_l("Document number"), validators=[optional(), length(120)])
    decided_on = _date(_l("Date of the review"))
    opinion = TextAreaField(_l("Review opinion"), validators=[optional(), length(20000)])
    reason = TextAreaField(_l("Reason (for a return)"), validators=[optional(), length(4000)])
    approve = SubmitField(_l("Passed"))
    refuse = SubmitField(_l("Return for revision"))


class ProcurementForm(FlaskForm):
    method = StringField(_l("Procurement method"), validators=[optional(), length(32)])
    supplier = StringField(_l("Winning supplier"), validators=[optional(), length(200)])
    contract_amount = _amount(_l("Contract amount (yuan)"))
    supervisor = StringField(_l("Supervising company"), validators=[optional(), length(200)])
    procured_on = _date(_l("Contract date"))
    submit = SubmitField(_l("Record the procurement"))


class MilestoneForm(FlaskForm):
    milestone_id = HiddenField(validators=[optional(), length(12)])
    title = StringField(_l("Milestone"), validators=[optional(), length(200)])
    planned_on = _date(_l("Planned date"))
    done_on = _date(_l("Date reached"))
    note = TextAreaField(_l("Note"), validators=[optional(), length(4000)])
    submit = SubmitField(_l("Record"))


class AcceptanceForm(FlaskForm):
    held_on = _date(_l("Acceptance date"))
    opinion = TextAreaField(_l("Acceptance opinion"), validators=[optional(), length(20000)])
    rectification_items = TextAreaField(_l("What must be rectified"), validators=[optional(), length(20000)])
    rectification_deadline = _date(_l("Rectification deadline"))
    document_number = StringField(_l("Document number"), validators=[optional(), length(120)])
    approve = SubmitField(_l("Acceptance passed"))
    refuse = SubmitField(_l("Rectification required"))


class ActionForm(FlaskForm):
    """A button (CSRF only)."""

    submit = SubmitField(_l("Confirm"))
