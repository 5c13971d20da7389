from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from ..forms_common import length, optional, required


def weight():
    return [InputRequired(message=_l("This field is required.")), NumberRange(min=0, max=100)]

SCORES = [SelectChoice(n, str(n)) for n in (5, 4, 3, 2, 1)]


class RatingForm(FlaskForm):
    attitude = RadioField(_l("Service attitude"), coerce=int, choices=SCORES, validators=[required()])
    response = RadioField(_l("Response"), coerce=int, choices=SCORES, validators=[required()])
    resolution = RadioField(_l("Resolution"), coerce=int, choices=SCORES, validators=[required()])
    comment = TextAreaField(_l("Comment"), validators=[optional(), length(2000)])
    low_reason = TextAreaField(_l("Reason for a low score"), validators=[optional(), length(2000)])
    submit = SubmitField(_l("Submit the rating"))


class ComputeForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[required(), NumberRange(min=2000, max=2100)])
    sla = IntegerField(_l("SLA (availability)"), validators=weight())
    response = IntegerField(_l("Incident response"), validators=weight())
    resolution = IntegerField(_l("Incident resolution"), validators=weight())
    drills = IntegerField(_l("Emergency drills"), validators=weight())
    rectifications = IntegerField(_l("Rectifications closed on time"), validators=weight())
    ratings = IntegerField(_l("Departments' ratings"), validators=weight())
    submit = SubmitField(_l("Compute"))


class SignForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[optional(), length(2000)])
    submit = SubmitField(_l("Sign (frozen afterwards)"))


class RecomputeForm(FlaskForm):
    submit = SubmitField(_l("Recompute"))


class GenerateForm(FlaskForm):
    submit = SubmitField(_l("Generate the last period's missing reports now"))
