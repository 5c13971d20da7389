"""The performance evaluation of a project in use (第十七条), on the projects' blueprint: the bureau opens
it (the default indicators and weights) and completes it, each expert assigned to it scores every
indicator, the department writes its self-assessment. Thin views over services/project_performance."""
from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField, TextAreaField
from wtforms.validators import NumberRange

from ..access import require
from ..errors import ValidationFailed
from ..extensions import db
from ..forms_common import length, optional, required
from ..models.accounts import Role
from ..services import project_performance as perf, projects as svc
from ..web import request_info
from .money import record
from .blueprint import VIEWERS, bp


class SelfAssessmentForm(FlaskForm):
    self_assessment = TextAreaField(_l("Self-assessment of the department"), validators=[required(), length(20000)])
    self_score = IntegerField(_l("Self-assessed score (0-100)"), validators=[optional(), NumberRange(min=0, max=100)])
    submit = SubmitField(_l("Save the self-assessment"))


class ConclusionForm(FlaskForm):
    conclusion = TextAreaField(_l("Conclusion of the evaluation"), validators=[required(), length(4000)])
    submit = SubmitField(_l("Complete the evaluation"))


class ScoresForm(FlaskForm):
    """The scores come as score-<indicator key> fields (the indicators are the evaluation's own)."""

    opinion = TextAreaField(_l("Opinion"), validators=[optional(), length(4000)])
    submit = SubmitField(_l("Submit the scores"))


def _current(project):
    evaluations = perf.evaluations_of(db.session, project.id)
    return evaluations[-1] if evaluations else None


@bp.route("/<int:project_id>/evaluation")
@require(*VIEWERS)
def evaluation(project_id):
    project = svc.get_project(db.session, current_user, project_id)
    current = _current(project)
    scores = []
    if current is not None:
        scores = [s for s in current.scores if current_user.role in (Role.BUREAU, Role.AUDITOR)
                  or s.expert_id == current_user.id]
    return render_template(
        "projects/evaluation.html", project=project, evaluation=current, scores=scores,
        table=perf.evaluation_table(current) if current is not None else None,
        grade=perf.zh_grade(current.grade) if current is not None and current.grade else "",
        assigned=current_user.role == Role.EXPERT and perf.is_assigned(db.session, current_user, project.id),
        is_owner=current_user.role == Role.DEPARTMENT, is_bureau=current_user.role == Role.BUREAU,
        self_form=SelfAssessmentForm(formdata=None), conclusion_form=ConclusionForm(formdata=None),
        scores_form=ScoresForm(formdata=None), open_form=FlaskForm(formdata=None))


def _act(project_id, form, call, done):
    """money.record on the evaluation page: call(project, its current evaluation)."""
    return record(project_id, form, lambda project, _form: call(project, _current(project)), done,
                  page="projects.evaluation")


def _need(evaluation):
    if evaluation is None:
        raise ValidationFailed(_("The evaluation has not been opened yet."))
    return evaluation


@bp.route("/<int:project_id>/evaluation/open", methods=["POST"])
@require(Role.BUREAU)
def evaluation_open(project_id):
    return _act(project_id, FlaskForm(), lambda p, _e: perf.open_evaluation(db.session, request_info(), p),
                _("The performance evaluation is open: assign the experts who score it."))


@bp.route("/<int:project_id>/evaluation/scores", methods=["POST"])
@require(Role.EXPERT)
def evaluation_scores(project_id):
    def call(_project, evaluation):
        evaluation = _need(evaluation)
        scores = {}
        for indicator in evaluation.indicators:
            text = (request.form.get(f"score-{indicator['key']}") or "").strip()
            if not text.isdigit() or len(text) > 3:
                raise ValidationFailed(_("Each score is a whole number from 0 to 100."))
            scores[indicator["key"]] = int(text)
        perf.submit_scores(db.session, request_info(), evaluation, scores, request.form.get("opinion", ""))
    return _act(project_id, ScoresForm(), call, _("Your scores are saved."))


@bp.route("/<int:project_id>/evaluation/self", methods=["POST"])
@require(Role.DEPARTMENT)
def evaluation_self(project_id):
    form = SelfAssessmentForm()
    return _act(project_id, form, lambda _p, e: perf.self_assess(db.session, request_info(), _need(e),
                                                                 form.self_assessment.data, form.self_score.data),
                _("The self-assessment is saved."))


@bp.route("/<int:project_id>/evaluation/complete", methods=["POST"])
@require(Role.BUREAU)
def evaluation_complete(project_id):
    form = ConclusionForm()
    return _act(project_id, form, lambda _p, e: perf.complete_evaluation(db.session, request_info(), _need(e),
                                                                         form.conclusion.data),
                _("The performance evaluation is completed."))
