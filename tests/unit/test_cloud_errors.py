"""Which cloud errors are retried (transient) and which stop the job (permanent), by the cloud's answer."""
import pytest
from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions as os_exceptions

from provisioner import errors
from provisioner.cloud import translate_errors


def outcome(exc, what="create server"):
    with pytest.raises(errors.ProvisioningError) as caught:
        with translate_errors(what):
            raise exc
    return type(caught.value).__name__, caught.value.message


def http(status, details=""):
    return os_exceptions.HttpException(message=f"HTTP {status}", details=details, http_status=status)


@pytest.mark.parametrize("exc, what, expected", [
    (http(503), "create server", ("TransientCloudError", errors.CLOUD_UNAVAILABLE)),
    (http(503, "fault proxy: service unavailable"), "set quotas", ("TransientCloudError", errors.CLOUD_UNAVAILABLE)),
    (http(502), "get quotas", ("TransientCloudError", errors.CLOUD_UNAVAILABLE)),
    (http(409, "Instance is in task_state resizing"), "resize", ("TransientCloudError", errors.CLOUD_UNAVAILABLE)),
    (http(429), "list", ("TransientCloudError", errors.CLOUD_UNAVAILABLE)),
    (http(403, "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances"), "create server",
     ("PermanentCloudError", errors.QUOTA_EXCEEDED)),
    (http(409, "Quota exceeded for resources: ['floatingip']."), "create floating ip",
     ("PermanentCloudError", errors.QUOTA_EXCEEDED)),
    (http(413, "VolumeSizeExceedsAvailableQuota"), "create volume", ("PermanentCloudError", errors.QUOTA_EXCEEDED)),
    (http(400, "Invalid flavorRef"), "set quotas", ("PermanentCloudError", errors.REJECTED_BY_CLOUD)),
    (http(403, "Policy doesn't allow"), "create server", ("PermanentCloudError", errors.REJECTED_BY_CLOUD)),
    (os_exceptions.ResourceTimeout("timed out"), "wait", ("TransientCloudError", errors.TIMEOUT)),
    (ks_exceptions.ConnectFailure("reset"), "get server", ("TransientCloudError", errors.CLOUD_UNAVAILABLE)),
    (ks_exceptions.DiscoveryFailure("no version"), "get server", ("TransientCloudError", errors.CLOUD_UNAVAILABLE)),
    (ks_exceptions.http.ServiceUnavailable(), "token", ("TransientCloudError", errors.CLOUD_UNAVAILABLE)),
    (ks_exceptions.http.Unauthorized(), "token", ("PermanentCloudError", errors.REJECTED_BY_CLOUD)),
    (ConnectionResetError(104, "Connection reset by peer"), "get", ("TransientCloudError", errors.CLOUD_UNAVAILABLE)),
])
def test_translate_errors(exc, what, expected):
    assert outcome(exc, what) == expected


def test_http_retry_policy_never_repeats_a_create():
    from provisioner.cloud import http_retry
    retry = http_retry()
    assert retry.is_retry("GET", 503) and retry.is_retry("DELETE", 502)
    assert not retry.is_retry("POST", 503) and not retry.is_retry("PUT", 503)
    assert retry._is_method_retryable("GET") and not retry._is_method_retryable("POST")
    assert retry.total and retry.backoff_jitter > 0 and retry.backoff_max <= 10
