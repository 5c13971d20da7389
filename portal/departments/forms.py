from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Regexp

from ..forms_common import EMAIL, PHONE, length, optional, required
from ..labels import LEVEL_LABELS


class ContactsForm(FlaskForm):
    security_officer_name = StringField(_l("Security officer"), validators=[required(), length(64)])
    security_officer_phone = StringField(_l("Security officer phone"), validators=[required(), PHONE])
    it_lead_name = StringField(_l("IT lead"), validators=[required(), length(64)])
    it_lead_phone = StringField(_l("IT lead phone"), validators=[required(), PHONE])
    it_lead_email = StringField(_l("IT lead e-mail"), validators=[optional(), length(120), EMAIL])
    emergency_contact_name = StringField(_l("Emergency contact"), validators=[required(), length(64)])
    emergency_contact_phone = StringField(_l("Emergency contact phone"), validators=[required(), PHONE])
    # issue 20: e-mails of the officer and the emergency contact, and a backup emergency contact
    security_officer_email = StringField(_l("Security officer e-mail"), validators=[optional(), length(120), EMAIL])
    emergency_contact_email = StringField(_l("Emergency contact e-mail"), validators=[optional(), length(120), EMAIL])
    backup_contact_name = StringField(_l("Backup emergency contact"), validators=[optional(), length(64)])
    backup_contact_phone = StringField(_l("Backup emergency contact phone"), validators=[optional(), PHONE])
    backup_contact_email = StringField(_l("Backup emergency contact e-mail"),
                                       validators=[optional(), length(120), EMAIL])
    submit = SubmitField(_l("Save"))


class DepartmentForm(ContactsForm):
    name = StringField(_l("Name"), validators=[required(), length(120, 2)])
    code = StringField(_l("Code"), validators=[
        required(), length(32, 2),
        Regexp(r"^[A-Z0-9][A-Z0-9_-]*$", message=_l("Use capital letters, digits, - and _ only."))])
    level = SelectField(_l("Level"), choices=[SelectChoice(k.value, v) for k, v in LEVEL_LABELS.items()])
    parent_id = SelectField(_l("Parent department"), coerce=int, choices=[])
    openstack_project_id = StringField(_l("OpenStack project ID"), validators=[optional(), length(64)])

    FIELD_ORDER = ("name", "code", "level", "parent_id", "openstack_project_id")

    def set_parents(self, departments, none_label):
        self.parent_id.choices = [SelectChoice(0, none_label)] + [SelectChoice(d.id, f"{d.code} {d.name}") for d in departments]

    def data_for_service(self):
        data = {name: self[name].data for name in self.FIELD_ORDER}
        data.update({name: self[name].data for name in CONTACT_FIELDS})
        data["code"] = (data["code"] or "").strip()
        data["name"] = (data["name"] or "").strip()
        data["parent_id"] = data["parent_id"] or None
        return data


CONTACT_FIELDS = ("security_officer_name", "security_officer_phone", "security_officer_email", "it_lead_name",
                  "it_lead_phone", "it_lead_email", "emergency_contact_name", "emergency_contact_phone",
                  "emergency_contact_email", "backup_contact_name", "backup_contact_phone", "backup_contact_email")
