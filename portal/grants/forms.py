from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import NumberRange

from ..forms_common import length, optional, required


class GrantRequestForm(FlaskForm):
    system_id = SelectField(_l("System"), coerce=int, choices=[], validate_choice=False)
    reason = TextAreaField(_l("Reason"), validators=[required(), length(2000)])
    starts_at = DateTimeLocalField(_l("Access from"), format="%Y-%m-%dT%H:%M",
                                   validators=[required()])
    ends_at = DateTimeLocalField(_l("Access until"), format="%Y-%m-%dT%H:%M",
                                 validators=[required()])
    submit = SubmitField(_l("Apply for access"))


class GrantDecisionForm(FlaskForm):
    ssh_host = StringField(_l("Management host"), validators=[optional(), length(255)])
    ssh_port = IntegerField(_l("SSH port"), default=22,
                            validators=[optional(), NumberRange(min=1, max=65535)])
    ssh_username = StringField(_l("User name on the host"), validators=[optional(), length(64)])
    ssh_host_key = StringField(_l("Host public key"), validators=[optional(), length(4000)])
    comment = TextAreaField(_l("Comment"), validators=[optional(), length(2000)])
    approve = SubmitField(_l("Grant access"))
    refuse = SubmitField(_l("Refuse"))


class RevokeForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[optional(), length(2000)])
    submit = SubmitField(_l("Revoke now"))


class CommandForm(FlaskForm):
    # checked by the service, after the grant: an empty command must not skip the grant check
    command = StringField(_l("Command"), validators=[optional(), length(2000)])
    submit = SubmitField(_l("Run"))
