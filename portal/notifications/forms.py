from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField


class PreferencesForm(FlaskForm):
    email = BooleanField(_l("By e-mail"))
    sms = BooleanField(_l("By SMS (through the operator's gateway)"))
    save = SubmitField(_l("Save"))


class ReadForm(FlaskForm):
    """The CSRF token of the inbox's buttons (mark read, mark all read)."""
