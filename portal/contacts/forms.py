"""Forms of the contacts and agreements pages (issue 20)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..forms_common import EMAIL, PHONE, length, optional, required
from ..models.contacts import PERSON_KIND_LABELS


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("Confirm the contacts are still correct"))


class PersonForm(FlaskForm):
    kind = SelectField(_l("Role"), choices=[SelectChoice(k, v) for k, v in PERSON_KIND_LABELS.items()])
    system_id = SelectField(_l("System"), coerce=int, choices=[])
    name = StringField(_l("Full name"), validators=[required(), length(64)])
    title = StringField(_l("Position"), validators=[optional(), length(64)])
    phone = StringField(_l("Phone"), validators=[required(), PHONE, length(32)])
    email = StringField(_l("E-mail"), validators=[optional(), length(120), EMAIL])
    add = SubmitField(_l("Add"))

    def set_systems(self, systems, none_label):
        self.system_id.choices = [SelectChoice(0, none_label)] + [SelectChoice(s.id, s.system_name) for s in systems]


class RemoveForm(FlaskForm):
    remove = SubmitField(_l("Remove"))


class ImportantForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[optional(), length(500)])
    mark = SubmitField(_l("Mark important"))


class AgreementForm(FlaskForm):
    system_id = SelectField(_l("System"), coerce=int, choices=[])
    parties = StringField(_l("Parties"), validators=[required(), length(500)])
    signed_on = DateField(_l("Date signed"), validators=[Optional()])
    expires_on = DateField(_l("Expires on"), validators=[Optional()])
    document = FileField(_l("Signed agreement (PDF, Word or Excel, at most 10 MB)"))
    save = SubmitField(_l("Record the agreement"))

    def set_systems(self, systems):
        self.system_id.choices = [SelectChoice(s.id, s.system_name) for s in systems]
