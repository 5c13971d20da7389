"""Errors of the backup engine: a msgid for people (translated by the portal) and the detail."""
from provisioner.errors import ProvisioningError


class BackupError(Exception):
    """A backup step failed; `message` is the msgid shown to people, `detail` is for the vendor."""

    transient = True  # a later attempt may succeed

    def __init__(self, message, detail=""):
        self.message = message
        self.detail = detail
        super().__init__(f"{message}: {detail}" if detail else message)


class HookFailed(BackupError):
    """A pre- or post-backup command failed on a server (exit status, SSH error or timeout)."""


class HookRefused(HookFailed):
    """The hooks may not run: the policy's key is not a live key of the department owning the
    policy, the system and the server (第十八条). Not retried."""

    transient = False


class NothingToBackUp(BackupError):
    """The system has no servers or volumes (left) of the kinds the policy backs up."""

    transient = False


def from_cloud(exc: ProvisioningError, what):
    """Wrap a provisioner error of step `what` as a BackupError with the same msgid."""
    err = BackupError(exc.message, f"{what}: {exc.detail or exc}")
    err.transient = exc.transient
    return err


# msgids (English; zh_CN in portal/translations) of the messages people see
PRE_HOOK_FAILED = ("The command before the backup (pre-hook) failed on the server; no snapshot or backup "
                   "was taken.")
POST_HOOK_FAILED = "The command after the backup (post-hook) failed on the server."
SSH_NOT_CONFIGURED = "The policy has backup commands but no SSH user, host key or key."
KEY_NOT_OF_DEPARTMENT = ("The backup commands were refused: their SSH key is not a key of the department that "
                         "owns the system.")
KEY_REVOKED = "The backup commands were refused: their SSH key has been revoked."
NOTHING_TO_BACK_UP = "The system has no servers or volumes to back up."
BACKUP_TIMEOUT = "The backup did not complete within the policy's time limit."
BACKUP_ERROR = "The cloud reported an error while making the backup."
VERIFY_FAILED = "The newest backup could not be restored in the verification."
RESTORE_FAILED = "The restore failed in the cloud."
EXPORT_FAILED = "The backup could not be prepared for download."
RUN_CRASHED = "The backup run stopped because of an internal error; the vendor has been informed."
