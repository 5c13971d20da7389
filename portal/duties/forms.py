"""Forms of the duties' pages: plans and versions, drills, rectification notices, key changes."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateField, DateTimeLocalField, IntegerField, SelectField, StringField, SubmitField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange

from ..forms_common import length, optional, required
from ..workdays import CHINA


def _lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _local(value):
    return value.replace(tzinfo=CHINA) if value else None


class VersionForm(FlaskForm):
    """A version's content; roles one per line as 角色：职责, steps one per line."""

    scenario = TextAreaField(_l("Scenario"), validators=[required(), length(8000)])
    roles = TextAreaField(_l("Roles and duties"), validators=[required(), length(8000)],
                          description=_l("One role per line: the role, a colon, its duties."))
    steps = TextAreaField(_l("Steps"), validators=[required(), length(20000)],
                          description=_l("One step per line, in order."))
    rto_minutes = IntegerField(_l("Recovery time objective (RTO, minutes)"),
                               validators=[required(), NumberRange(1, 100000)])
    rpo_minutes = IntegerField(_l("Recovery point objective (RPO, minutes)"),
                               validators=[optional(), NumberRange(0, 100000)], default=0)
    document = FileField(_l("Plan document (PDF, Word or Excel, at most 10 MB)"))
    submit = SubmitField(_l("Save"))

    def fill(self, version):
        self.scenario.data = version.scenario
        self.roles.data = "\n".join(f"{r['role']}：{r['duty']}" for r in version.roles)
        self.steps.data = "\n".join(version.steps)
        self.rto_minutes.data, self.rpo_minutes.data = version.rto_minutes, version.rpo_minutes

    def content(self):
        roles = []
        for line in _lines(self.roles.data):
            role, _sep, duty = line.replace(":", "：").partition("：")
            roles.append({"role": role.strip(), "duty": duty.strip() or role.strip()})
        return {"scenario": self.scenario.data, "roles": roles, "steps": _lines(self.steps.data),
                "rto_minutes": self.rto_minutes.data, "rpo_minutes": self.rpo_minutes.data or 0}


class PlanForm(VersionForm):
    title = StringField(_l("Title"), validators=[required(), length(200)])
    system_id = SelectField(_l("System"), coerce=int, choices=[], validate_choice=False)
    drill_interval_months = IntegerField(_l("Drill at least every (months)"), default=12,
                                         validators=[required(), NumberRange(1, 36)])

    def set_systems(self, systems):
        self.system_id.choices = [SelectChoice(s.id, f"{s.system_name} · {s.number}") for s in systems]

    def data_for_service(self):
        return {**self.content(), "title": self.title.data, "system_id": self.system_id.data,
                "drill_interval_months": self.drill_interval_months.data}


class NoteForm(FlaskForm):
    """A decision or an action with its note (reason)."""

    note = TextAreaField(_l("Note (the reason when returning, rejecting or cancelling)"),
                         validators=[optional(), length(2000)])


class DrillForm(FlaskForm):
    plan_id = SelectField(_l("Emergency plan"), coerce=int, choices=[], validate_choice=False)
    scheduled_for = DateField(_l("Day of the drill"), validators=[required()])
    title = StringField(_l("Title"), validators=[required(), length(200)])
    scenario = TextAreaField(_l("Scenario drilled"), validators=[optional(), length(4000)])
    submit = SubmitField(_l("Schedule"))

    def set_plans(self, plans):
        self.plan_id.choices = [SelectChoice(p.id, p.title) for p in plans]


class StartForm(FlaskForm):
    participants = TextAreaField(_l("Participants"), validators=[optional(), length(8000)],
                                 description=_l("One per line: name and unit."))


class StepForm(FlaskForm):
    title = StringField(_l("Step"), validators=[required(), length(200)])
    actor = StringField(_l("Who"), validators=[optional(), length(120)])
    outcome = SelectField(_l("How it went"), choices=[])
    note = TextAreaField(_l("Note"), validators=[optional(), length(2000)])

    def data_for_service(self):
        return {"title": self.title.data, "actor": self.actor.data, "outcome": self.outcome.data,
                "note": self.note.data}


class RestoreForm(FlaskForm):
    artifact_id = SelectField(_l("Backup"), coerce=int, choices=[], validate_choice=False)
    mode = SelectField(_l("Restore mode"), choices=[])
    target_name = StringField(_l("Name of the restored copy (optional)"), validators=[optional(), length(120)])


class FinishForm(FlaskForm):
    result = SelectField(_l("Result"), choices=[])
    participants = TextAreaField(_l("Participants"), validators=[optional(), length(8000)],
                                 description=_l("One per line: name and unit."))
    summary = TextAreaField(_l("Summary"), validators=[required(), length(8000)])
    problems = TextAreaField(_l("Problems found"), validators=[optional(), length(8000)])

    def data_for_service(self):
        return {"result": self.result.data, "participants": _lines(self.participants.data),
                "summary": self.summary.data, "problems": self.problems.data}


class FollowUpForm(FlaskForm):
    description = TextAreaField(_l("Follow-up action"), validators=[required(), length(2000)])
    owner = StringField(_l("Responsible"), validators=[optional(), length(120)])
    due_date = DateField(_l("Due day"), validators=[required()])


class RectificationForm(FlaskForm):
    target = SelectField(_l("Addressed to"), choices=[])
    department_id = SelectField(_l("Department"), coerce=int, choices=[], validate_choice=False)
    title = StringField(_l("Title"), validators=[required(), length(200)])
    finding = TextAreaField(_l("Problem found"), validators=[required(), length(4000)])
    requirement = TextAreaField(_l("Requirement"), validators=[required(), length(4000)])
    due_date = DateField(_l("Deadline"), validators=[required()])
    submit = SubmitField(_l("Issue the notice"))

    def data_for_service(self):
        return {"target": self.target.data, "department_id": self.department_id.data, "title": self.title.data,
                "finding": self.finding.data, "requirement": self.requirement.data, "due_date": self.due_date.data}


class AnswerForm(FlaskForm):
    text = TextAreaField(_l("What was done"), validators=[required(), length(4000)])
    document = FileField(_l("Evidence (PDF, Word or Excel, at most 10 MB)"))


class KeyChangeForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[])
    title = StringField(_l("Title"), validators=[required(), length(200)])
    description = TextAreaField(_l("What changes"), validators=[required(), length(4000)])
    impact = TextAreaField(_l("Impact"), validators=[required(), length(4000)])
    rollback_plan = TextAreaField(_l("Rollback plan"), validators=[required(), length(4000)])
    starts_at = DateTimeLocalField(_l("Start (Beijing time)"), format="%Y-%m-%dT%H:%M", validators=[required()])
    ends_at = DateTimeLocalField(_l("End (Beijing time)"), format="%Y-%m-%dT%H:%M", validators=[required()])
    maintenance_window_id = SelectField(_l("Maintenance window (if services are interrupted)"), coerce=int,
                                        choices=[], validate_choice=False)
    security_confirmed = BooleanField(_l("No equipment or software that may endanger public or national security "
                                         "is used (Article 21)"))
    submit = SubmitField(_l("Apply"))

    def data_for_service(self):
        return {"kind": self.kind.data, "title": self.title.data, "description": self.description.data,
                "impact": self.impact.data, "rollback_plan": self.rollback_plan.data,
                "starts_at": _local(self.starts_at.data), "ends_at": _local(self.ends_at.data),
                "security_confirmed": bool(self.security_confirmed.data),
                "maintenance_window_id": self.maintenance_window_id.data or None}
