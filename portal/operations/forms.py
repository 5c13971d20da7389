from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange

from ..forms_common import length, optional, required
from ..models.operations import PROBE_KIND_LABELS


class ProbeTargetForm(FlaskForm):
    department_id = SelectField(_l("Department"), coerce=int, choices=[])
    system_name = StringField(_l("System"), validators=[required(), length(120)])
    name = StringField(_l("Name"), validators=[required(), length(120)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, v) for k, v in PROBE_KIND_LABELS.items()])
    url = StringField(_l("URL (OpenStack API)"), validators=[optional(), length(255)])
    server_id = StringField(_l("Server ID"), validators=[optional(), length(64)])
    host = StringField(_l("Host"), validators=[optional(), length(255)])
    port = IntegerField(_l("Port"), validators=[optional(), NumberRange(1, 65535)])
    username = StringField(_l("SSH user"), validators=[optional(), length(64)])
    key_path = StringField(_l("SSH private key file (on the scheduler host)"), validators=[optional(), length(255)])
    host_key = StringField(_l("Pinned SSH host key (type and base64)"), validators=[optional(), length(1000)])
    command = StringField(_l("SSH command"), validators=[optional(), length(255)])
    failure_threshold = IntegerField(_l("Failures before an incident"), default=3,
                                     validators=[NumberRange(1, 60)])
    submit = SubmitField(_l("Save"))

    SETTINGS = ("url", "server_id", "host", "port", "username", "key_path", "host_key", "command")

    def set_departments(self, departments, none_label):
        self.department_id.choices = [SelectChoice(0, none_label)] + [
            SelectChoice(d.id, f"{d.code} {d.name}") for d in departments]

    def data_for_service(self):
        return {"department_id": self.department_id.data or None, "system_name": self.system_name.data,
                "name": self.name.data, "kind": self.kind.data,
                "failure_threshold": self.failure_threshold.data or 3,
                "settings": {k: self[k].data for k in self.SETTINGS}}


class ToggleForm(FlaskForm):
    submit = SubmitField(_l("Switch on/off"))
