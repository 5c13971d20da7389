"""Errors of the provisioner; each carries a message for people and the technical detail."""


class ProvisioningError(Exception):
    """A cloud call failed; `message` is the msgid shown to people (translated by the portal)."""

    transient = False

    def __init__(self, message, detail=""):
        self.message = message
        self.detail = detail
        super().__init__(f"{message}: {detail}" if detail else message)


class TransientCloudError(ProvisioningError):
    """5xx, connection reset, timeout, conflict: worth retrying later."""

    transient = True


class PermanentCloudError(ProvisioningError):
    """Bad request, forbidden, quota, no valid host, missing image: a person must act."""


# msgids (English, translated in the portal catalog) for the messages people see
QUOTA_EXCEEDED = "The department's quota does not allow this resource; the approved allocation is used up."
NO_VALID_HOST = "The cloud has no host with enough free capacity for this server."
IMAGE_MISSING = "The requested image does not exist in the cloud."
FLAVOR_MISSING = "The requested flavor does not exist in the cloud."
SERVER_ERROR = "A server went into the ERROR state while it was being created."
TIMEOUT = "The cloud did not finish the operation in time."
CLOUD_UNAVAILABLE = "The cloud could not be reached or answered with an internal error."
REJECTED_BY_CLOUD = "The cloud rejected the request."
