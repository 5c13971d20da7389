from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange

from ..models.backups import BackupKinds
from ..forms_common import length, optional, required
from ..models.backups import KINDS_LABELS, RESTORE_MODE_LABELS


class PolicyForm(FlaskForm):
    """A 备份策略; the engine checks the fields again (backup/policies.py validate)."""

    name = StringField(_l("Name"), validators=[required(), length(120)])
    target = SelectField(_l("Applies to"), choices=[], validate_choice=False)
    kinds = SelectField(_l("What is backed up"), choices=[SelectChoice(k.value, KINDS_LABELS[k]) for k in BackupKinds],
                        default=BackupKinds.BOTH.value)
    cron = StringField(_l("Schedule (cron, Beijing time)"), default="0 2 * * *", validators=[required(), length(120)])
    keep_count = IntegerField(_l("Keep the newest N backups"), default=7,
                              validators=[optional(), NumberRange(min=1, max=1000)])
    keep_days = IntegerField(_l("Keep backups for D days"), validators=[optional(), NumberRange(min=1, max=3650)])
    timeout_seconds = IntegerField(_l("Time limit of a run (seconds)"), default=3600,
                                   validators=[optional(), NumberRange(min=60, max=86400)])
    hook_pre = TextAreaField(_l("Command before the snapshot (e.g. flush and freeze the database)"),
                             validators=[optional(), length(4000)])
    hook_post = TextAreaField(_l("Command after the snapshot (e.g. thaw)"), validators=[optional(), length(4000)])
    ssh_username = StringField(_l("SSH user"), validators=[optional(), length(64)])
    ssh_host = StringField(_l("SSH host (empty: the server's address)"), validators=[optional(), length(255)])
    ssh_port = IntegerField(_l("SSH port"), default=22, validators=[optional(), NumberRange(min=1, max=65535)])
    ssh_host_key = StringField(_l("Host public key (pinned)"), validators=[optional(), length(4000)])
    ssh_key_id = SelectField(_l("SSH key of the department"), choices=[], validate_choice=False)
    enabled = BooleanField(_l("Enabled"), default=True)
    save = SubmitField(_l("Save"))

    FIELDS = ("name", "target", "kinds", "cron", "keep_count", "keep_days", "timeout_seconds", "hook_pre",
              "hook_post", "ssh_username", "ssh_host", "ssh_port", "ssh_host_key", "ssh_key_id", "enabled")

    def data_for_service(self):
        return {f: getattr(self, f).data for f in self.FIELDS}

    def fill(self, policy):
        for f in self.FIELDS:
            if f != "target":
                getattr(self, f).data = getattr(policy, f)
        self.ssh_key_id.data = str(policy.ssh_key_id or "")
        self.target.data = f"s{policy.system_id}" if policy.system_id else f"d{policy.department_id}"


class RestoreForm(FlaskForm):
    mode = SelectField(_l("Restore"), validators=[required()],
                       choices=[SelectChoice(m.value, label) for m, label in RESTORE_MODE_LABELS.items()])
    target_name = StringField(_l("Name of the new volume or server (optional)"), validators=[optional(), length(200)])
    urgent = BooleanField(_l("Urgent (article 19: a recovery need is handled at once)"))
    reason = TextAreaField(_l("Reason (the vendor: the department's request)"), validators=[optional(), length(2000)])
    submit = SubmitField(_l("Restore now"))
    ask_vendor = SubmitField(_l("Ask the vendor to restore"))


class ExtractionForm(FlaskForm):
    reason = TextAreaField(_l("Why the data is to be extracted"), validators=[required(), length(2000)])
    submit = SubmitField(_l("Apply for extraction"))


class DecisionForm(FlaskForm):
    comment = TextAreaField(_l("Reason of the decision"), validators=[optional(), length(2000)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))


class KeyForm(FlaskForm):
    """A department's SSH key: generated here, or uploaded (the private key, never shown again)."""

    name = StringField(_l("Key name"), validators=[required(), length(120)])
    private_key = TextAreaField(_l("Private key to upload (Ed25519, OpenSSH format, no passphrase)"),
                                validators=[optional(), length(16384)])
    generate = SubmitField(_l("Generate a new key"))
    upload = SubmitField(_l("Upload the key"))


class ActionForm(FlaskForm):
    """A bare POST with its CSRF token."""
