from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, DecimalField, HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange

from ..forms_common import length, optional, required
from ..services.rating import RESOURCE_UNITS


class MonthForm(FlaskForm):
    """Rate a month (one department, or every department with 0)."""

    department_id = SelectField(_l("Department"), coerce=int, choices=[])
    year = IntegerField(_l("Year"), validators=[required(), NumberRange(2000, 2100)])
    month = IntegerField(_l("Month"), validators=[required(), NumberRange(1, 12)])
    submit = SubmitField(_l("Rate the month"))

    def set_departments(self, departments, all_label):
        self.department_id.choices = [SelectChoice(0, all_label)] + [
            SelectChoice(d.id, f"{d.code} {d.name}") for d in departments]


class ReportForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[required(), NumberRange(2000, 2100)])
    month = IntegerField(_l("Month"), validators=[required(), NumberRange(1, 12)])
    submit = SubmitField(_l("Generate now"))


class StatementActionForm(FlaskForm):
    action = HiddenField()


class RateForm(FlaskForm):
    resource_type = StringField(_l("Resource type"), validators=[required(), length(64)],
                                description=", ".join(list(RESOURCE_UNITS) + ["volume:<type>"]))
    unit_price = DecimalField(_l("Price (yuan per unit-hour)"), places=6, validators=[required(), NumberRange(0)])
    effective_from = DateTimeLocalField(_l("Effective from (Beijing time)"), format="%Y-%m-%dT%H:%M",
                                        validators=[required()])
    note = StringField(_l("Note"), validators=[optional(), length(200)])
    submit = SubmitField(_l("Add price"))
