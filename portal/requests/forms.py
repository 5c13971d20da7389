from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, PasswordField, SelectField, StringField,
                     SubmitField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange

from ..forms_common import length, optional, required
from ..specs import MAX_BANDWIDTH_MBPS

SERVER_ROWS = 4
VOLUME_ROWS = 3
RULE_ROWS = 4
SECURITY_LEVELS = [SelectChoice(str(n), _l("Level %(n)d", n=n)) for n in (1, 2, 3, 4)]


class RequestForm(FlaskForm):
    """The fields of 附件1 besides the resource rows (those are read by spec_from_form)."""

    system_name = StringField(_l("System name"), validators=[required(), length(120)])
    purpose = TextAreaField(_l("Purpose"), validators=[optional(), length(4000)])
    project_ref = StringField(_l("Project reference (free text)"), validators=[optional(), length(200)])
    # issue 19: the project that passed the design review (附件1 第七条(七)); choices set by the view
    project_id = SelectField(_l("Informatization project"), choices=[], validate_choice=False)
    existing_system = BooleanField(_l("Moves a system already built and in use to the cloud (article 4)"))
    security_level = SelectField(_l("Security protection level"), choices=SECURITY_LEVELS, default="2")
    construction_plan = TextAreaField(_l("Construction plan"), validators=[optional(), length(8000)])
    reason = TextAreaField(_l("Reason for the change"), validators=[optional(), length(4000)])
    network_cidr = StringField(_l("Network (CIDR)"), validators=[optional(), length(32)])
    floating_ips = IntegerField(_l("Floating IPs"), default=0, validators=[optional(), NumberRange(min=0, max=20)])
    bandwidth_mbps = IntegerField(_l("Bandwidth (Mbps)"), default=0,
                                  validators=[optional(), NumberRange(min=0, max=MAX_BANDWIDTH_MBPS)])
    ssh_public_key = TextAreaField(_l("SSH public key"), validators=[optional(), length(4000)])
    # the documents of 附件1, attachable before the first save (a new request sends them with its fields)
    construction_plan_file = FileField(_l("Construction plan (file)"))
    self_test_file = FileField(_l("Performance and security self-test report"))
    # a change that removes servers or volumes (第十条二): the data migrated, with a note, or a final backup
    backup_confirmed = BooleanField(_l("The data has been migrated elsewhere (article 10 (2))"))
    migration_note = TextAreaField(_l("Where the data was migrated to"), validators=[optional(), length(2000)])
    seen = HiddenField(validators=[optional(), length(32)])  # the version the editor opened (edit_token)
    save = SubmitField(_l("Save draft"))

    def data_for_service(self, kind=None):
        data = {"system_name": self.system_name.data, "purpose": self.purpose.data,
                "project_ref": self.project_ref.data, "security_level": self.security_level.data,
                "construction_plan": self.construction_plan.data, "reason": self.reason.data}
        if kind in (None, "new"):
            data.update(project_id=self.project_id.data or None, existing_system=bool(self.existing_system.data))
        if kind == "change":
            data.update(backup_confirmed=bool(self.backup_confirmed.data), migration_note=self.migration_note.data or "")
        return data


class EstimateForm(RequestForm):
    """The request form as the live estimate reads it: any stage of filling in, the name not yet given."""

    system_name = StringField(_l("System name"), validators=[optional(), length(120)])


def spec_from_form(form, formdata):
    """Build the raw spec from the form and its numbered resource rows."""
    servers = [{"name": formdata.get(f"servers-{n}-name", ""), "flavor": formdata.get(f"servers-{n}-flavor", ""),
                "image": formdata.get(f"servers-{n}-image", ""), "count": formdata.get(f"servers-{n}-count", ""),
                "data_volumes": formdata.get(f"servers-{n}-data_volumes", "")}
               for n in range(1, SERVER_ROWS + 1)]
    servers = [s for s in servers if s["name"].strip()]
    for s in servers:  # 附件2: one server of the group changed or cancelled alone ("inst-web-2-flavor")
        prefix = f"inst-{s['name'].strip().lower()}-"
        lines = {}
        for key in formdata:
            if key.startswith(prefix) and key.count("-") >= 3:
                name, _, what = key[len("inst-"):].rpartition("-")
                if what == "cancel" and formdata.get(key):
                    lines.setdefault(name, {})["cancel"] = True
                elif what == "flavor" and formdata.get(key):
                    lines.setdefault(name, {})["flavor"] = formdata.get(key)
        if lines:
            s["instances"] = lines
    volumes = [{"name": formdata.get(f"volumes-{n}-name", ""), "size_gb": formdata.get(f"volumes-{n}-size_gb", ""),
                "attach_to": formdata.get(f"volumes-{n}-attach_to", "")} for n in range(1, VOLUME_ROWS + 1)]
    volumes = [v for v in volumes if v["name"].strip() or v["size_gb"].strip()]
    rules = [{"port": formdata.get(f"rules-{n}-port", ""), "protocol": formdata.get(f"rules-{n}-protocol", "tcp"),
              "source": formdata.get(f"rules-{n}-source", "")} for n in range(1, RULE_ROWS + 1)]
    rules = [r for r in rules if r["port"].strip() or r["source"].strip()]
    return {"servers": servers, "volumes": volumes, "rules": rules,
            "network": {"cidr": form.network_cidr.data or ""}, "floating_ips": form.floating_ips.data or 0,
            "bandwidth_mbps": form.bandwidth_mbps.data or 0, "ssh_public_key": form.ssh_public_key.data or ""}


def files_from_form(form):
    """Return [(purpose, file)] of the documents sent with a new request's form."""
    sent = ((purpose, getattr(form, f"{purpose}_file").data) for purpose in ("construction_plan", "self_test"))
    return [(purpose, f) for purpose, f in sent if f is not None and getattr(f, "filename", "")]


def fill_form(form, request):
    """Put a stored request into the form (GET of the edit page)."""
    for name in ("system_name", "purpose", "project_ref", "construction_plan", "reason"):
        form[name].data = getattr(request, name)
    form.security_level.data = str(request.security_level)
    form.project_id.data = str(request.project_id or "")
    form.existing_system.data = request.existing_system
    spec = request.spec or {}
    form.network_cidr.data = (spec.get("network") or {}).get("cidr", "")
    form.floating_ips.data = spec.get("floating_ips", 0)
    form.bandwidth_mbps.data = spec.get("bandwidth_mbps", 0)
    form.ssh_public_key.data = spec.get("ssh_public_key", "")
    form.backup_confirmed.data = request.backup_confirmed
    form.migration_note.data = request.migration_note


class UploadForm(FlaskForm):
    purpose = SelectField(_l("Document"), choices=[SelectChoice("construction_plan", _l("Construction plan")),
                                                   SelectChoice("self_test", _l("Performance and security self-test report"))])
    document = FileField(_l("File (PDF, Word or Excel, at most 10 MB)"))
    upload = SubmitField(_l("Upload"))


class DecommissionForm(FlaskForm):
    """附件2 注销: the reason, and how the data is kept (a final backup, or migrated with a note)."""

    reason = TextAreaField(_l("Reason for the decommission"), validators=[required(), length(4000)])
    backup_confirmed = BooleanField(_l("The data has been migrated elsewhere (article 10 (2))"))
    migration_note = TextAreaField(_l("Where the data was migrated to"), validators=[optional(), length(2000)])
    save = SubmitField(_l("Save draft"))


class ActionForm(FlaskForm):
    """A bare POST with its CSRF token (submit, cancel, confirm)."""


class ReviewForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[optional(), length(4000)])
    floating_ips = IntegerField(_l("Floating IPs"), validators=[optional(), NumberRange(min=0, max=20)])


class TokenForm(FlaskForm):
    """A new personal API token; the current password confirms that the owner is at the keyboard."""

    name = StringField(_l("Token name"), validators=[required(), length(64)])
    expires_on = DateField(_l("Expires on"), validators=[required()])
    scope = SelectField(_l("Access"), default="read",
                        choices=[SelectChoice("read", _l("Read-only")), SelectChoice("write", _l("Read-write"))])
    password = PasswordField(_l("Current password"), validators=[required(), length(256)])
    create = SubmitField(_l("Create token"))
