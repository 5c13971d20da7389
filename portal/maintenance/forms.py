from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ..forms_common import length, optional, required
from ..workdays import CHINA

KIND_CHOICES = [SelectChoice("planned", _l("Planned maintenance")),
                SelectChoice("emergency", _l("Emergency maintenance"))]


class WindowForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
    title = StringField(_l("Title"), validators=[required(), length(120)])
    department_ids = SelectMultipleField(_l("Affected departments"), coerce=int, choices=[],
                                         validators=[required()])
    systems = StringField(_l("Affected systems"), validators=[optional(), length(500)],
                          description=_l("Comma-separated; empty means every system of the departments."))
    starts_at = DateTimeLocalField(_l("Start (Beijing time)"), format="%Y-%m-%dT%H:%M", validators=[required()])
    ends_at = DateTimeLocalField(_l("End (Beijing time)"), format="%Y-%m-%dT%H:%M", validators=[required()])
    reason = TextAreaField(_l("Reason"), validators=[required(), length(2000)])
    impact = TextAreaField(_l("Impact"), validators=[required(), length(2000)])
    submit = SubmitField(_l("Apply"))

    def set_departments(self, departments):
        self.department_ids.choices = [SelectChoice(d.id, f"{d.code} {d.name}") for d in departments]

    def data_for_service(self):
        return {"kind": self.kind.data, "title": self.title.data, "reason": self.reason.data,
                "impact": self.impact.data, "department_ids": self.department_ids.data,
                "systems": (self.systems.data or "").replace("，", ",").split(","),
                "starts_at": self.starts_at.data.replace(tzinfo=CHINA) if self.starts_at.data else None,
                "ends_at": self.ends_at.data.replace(tzinfo=CHINA) if self.ends_at.data else None}


class DecisionForm(FlaskForm):
    note = TextAreaField(_l("Note (reason when rejecting)"), validators=[optional(), length(2000)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))
    cancel = SubmitField(_l("Cancel the window"))


class ResponseForm(FlaskForm):
    """A department agrees to or objects to a window that affects it (第十三条 协商一致)."""
    reason = TextAreaField(_l("Reason (required for an objection)"), validators=[optional(), length(2000)])
    agree = SubmitField(_l("Agree"))
    object = SubmitField(_l("Raise an objection"))
