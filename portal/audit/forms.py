"""The audit search: GET parameters, checked like any form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from ..forms_common import length
from ..labels import ACTION_LABELS, OBJECT_LABELS, OUTCOME_LABELS


class AuditSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a search changes nothing

    q = StringField(_l("Search"), validators=[Optional(), length(64)],
                    render_kw={"placeholder": _l("User, object, action or detail")})
    since = DateField(_l("From"), validators=[Optional()],
                      render_kw={"placeholder": "2026-01-01"})
    until = DateField(_l("To"), validators=[Optional()])
    department_id = SelectField(_l("Department"), coerce=lambda v: int(v) if v else None,
                                choices=[], validate_choice=False)
    actor = StringField(_l("Username"), validators=[Optional(), length(64)])
    action = SelectField(_l("Action"), default="", validate_choice=False,
                         choices=[SelectChoice("", _l("All actions"))]
                         + [SelectChoice(k, v) for k, v in ACTION_LABELS.items()])
    object_type = SelectField(_l("Object type"), default="", validate_choice=True,
                              choices=[SelectChoice("", _l("All object types"))]
                              + [SelectChoice(k, v) for k, v in OBJECT_LABELS.items()])
    object_id = StringField(_l("Object ID"), validators=[Optional(), length(64)])
    request_id = StringField(_l("Trace ID"), validators=[Optional(), length(64)])
    outcome = SelectField(_l("Outcome"), default="",
                          choices=[SelectChoice("", _l("Any outcome"))]
                          + [SelectChoice(k, v) for k, v in OUTCOME_LABELS.items()])

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date is before the start date."))
