from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import EqualTo

from ..forms_common import length, required


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[required(), length(64)])
    password = PasswordField(_l("Password"), validators=[required(), length(256)])
    submit = SubmitField(_l("Log in"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[required(), length(256)])
    new_password = PasswordField(_l("New password"), validators=[required(), length(256)])
    confirm = PasswordField(_l("Repeat new password"), validators=[
        required(), EqualTo("new_password", message=_l("The two passwords do not match."))])
    submit = SubmitField(_l("Change password"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Log out"))


class SecondFactorForm(FlaskForm):
    code = StringField(_l("Code from the authenticator app, or a recovery code"),
                       validators=[required(), length(32)])
    submit = SubmitField(_l("Verify"))


class EnrolForm(FlaskForm):
    code = StringField(_l("Code shown by the authenticator app"), validators=[required(), length(32)])
    submit = SubmitField(_l("Turn on the second factor"))


class RecoveryCodesForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[required(), length(256)])
    submit = SubmitField(_l("New recovery codes"))
