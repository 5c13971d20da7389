from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField

from ..forms_common import length, optional, required


class AcknowledgeForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[optional(), length(2000)])
    acknowledge = SubmitField(_l("Acknowledge"))


class RootCauseForm(FlaskForm):
    root_cause = TextAreaField(_l("Root cause"), validators=[required(), length(4000)])
    save = SubmitField(_l("Save the root cause"))
