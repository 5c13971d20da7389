from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ..forms_common import length, optional, required
from ..models.operations import INCIDENT_KIND_LABELS
from ..workdays import CHINA


class AcknowledgeForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[optional(), length(2000)])
    acknowledge = SubmitField(_l("Acknowledge"))


class RootCauseForm(FlaskForm):
    root_cause = TextAreaField(_l("Root cause"), validators=[required(), length(4000)])
    save = SubmitField(_l("Save the root cause"))


KIND_CHOICES = [SelectChoice(kind.value, text) for kind, text in INCIDENT_KIND_LABELS.items()]


class IncidentForm(FlaskForm):
    """The vendor opens an incident by hand."""
    kind = SelectField(_l("Type"), choices=KIND_CHOICES, default="outage",
                       description=_l("Only outages and degradations count against the system's availability."))
    department_id = SelectField(_l("Department"), coerce=int, choices=[], validators=[required()])
    system_name = StringField(_l("System"), validators=[required(), length(120)])
    title = StringField(_l("Title"), validators=[required(), length(255)])
    started_at = DateTimeLocalField(_l("Started (Beijing time)"), format="%Y-%m-%dT%H:%M", validators=[optional()],
                                    description=_l("Empty: now."))
    detail = TextAreaField(_l("Detail"), validators=[optional(), length(4000)])
    submit = SubmitField(_l("Open the incident"))

    def set_departments(self, departments):
        self.department_id.choices = [SelectChoice(d.id, f"{d.code} {d.name}") for d in departments]

    def data_for_service(self):
        return {"kind": self.kind.data, "department_id": self.department_id.data,
                "system_name": self.system_name.data, "title": self.title.data, "detail": self.detail.data,
                "started_at": self.started_at.data.replace(tzinfo=CHINA) if self.started_at.data else None}


class ResolveForm(FlaskForm):
    note = TextAreaField(_l("What was done"), validators=[required(), length(2000)])
    resolve = SubmitField(_l("Resolve the incident"))


class KindForm(FlaskForm):
    kind = SelectField(_l("Type"), choices=KIND_CHOICES)
    save = SubmitField(_l("Change the type"))
