from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Regexp

from ..forms_common import EMAIL, PHONE, length, optional, required
from ..labels import ROLE_LABELS


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        required(), length(64, 3),
        Regexp(r"^[a-z0-9][a-z0-9._-]*$", message=_l("Use lower-case letters, digits, ., - and _ only."))])
    full_name = StringField(_l("Full name"), validators=[required(), length(64)])
    email = StringField(_l("E-mail"), validators=[optional(), length(120), EMAIL])
    phone = StringField(_l("Phone"), validators=[optional(), PHONE])
    role = SelectField(_l("Role"), choices=[SelectChoice(k.value, v) for k, v in ROLE_LABELS.items()])
    department_id = SelectField(_l("Department"), coerce=int, choices=[])
    is_department_admin = BooleanField(_l("Department administrator (manages its members)"))
    is_active_account = BooleanField(_l("Account enabled"), default=True)
    submit = SubmitField(_l("Save"))

    def set_departments(self, departments, none_label):
        self.department_id.choices = [SelectChoice(0, none_label)] + [SelectChoice(d.id, f"{d.code} {d.name}") for d in departments]

    def data_for_service(self):
        return {"username": self.username.data.strip(), "full_name": self.full_name.data.strip(),
                "email": self.email.data or "", "phone": self.phone.data or "",
                "role": self.role.data, "department_id": self.department_id.data or None,
                "is_department_admin": self.is_department_admin.data,
                "is_active_account": self.is_active_account.data}


class CreateUserForm(UserForm):
    password = PasswordField(_l("Initial password"), validators=[required(), length(256)])


class EditUserForm(UserForm):
    new_password = PasswordField(_l("New password (leave empty to keep)"), validators=[optional(), length(256)])
    unlock = BooleanField(_l("Lift the login lock-out"))


class ProfileForm(FlaskForm):
    """The security administrator's form for an administrator's account: profile and password reset."""

    full_name = UserForm.full_name
    email = UserForm.email
    phone = UserForm.phone
    new_password = EditUserForm.new_password
    submit = SubmitField(_l("Save"))

    def data_for_service(self):
        return {"full_name": self.full_name.data.strip(), "email": self.email.data or "",
                "phone": self.phone.data or ""}


class ResetSecondFactorForm(FlaskForm):
    submit = SubmitField(_l("Reset the second factor"))


class RoleForm(FlaskForm):
    """The security administrator's form: role (and department), account enabled, lock-out lifted."""

    role = SelectField(_l("Role"), choices=[SelectChoice(k.value, v) for k, v in ROLE_LABELS.items()])
    department_id = SelectField(_l("Department"), coerce=int, choices=[])
    is_active_account = BooleanField(_l("Account enabled"), default=True)
    unlock = BooleanField(_l("Lift the login lock-out"))
    submit = SubmitField(_l("Save"))

    set_departments = UserForm.set_departments
