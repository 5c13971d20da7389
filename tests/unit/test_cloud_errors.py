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


class _Session:
    def __init__(self, admin):
        self.admin = admin
        self.session = self  # the requests session retry_idempotent_requests mounts its adapter on

    def mount(self, scheme, adapter):
        pass

    def get_token(self):
        self.admin.logins += 1
        if self.admin.logins <= self.admin.refusals:
            raise ks_exceptions.Unauthorized("The request you have made requires authentication.", http_status=401)
        return "token"


class _ScopedConnection:
    def __init__(self, admin):
        self.session = _Session(admin)
        self.closed = False

    def close(self):
        self.closed = True


class _Admin:
    """The admin connection's part a scoped login uses; keystone refuses the first `refusals` logins."""

    def __init__(self, refusals):
        self.refusals, self.logins, self.made = refusals, 0, []

    def connect_as_project(self, project):
        self.made.append(_ScopedConnection(self))
        return self.made[-1]


def _connections(admin, monkeypatch):
    from provisioner.cloud import connection
    monkeypatch.setattr(connection.time, "sleep", lambda seconds: None)
    conns = connection.Connections("/nonexistent/clouds.yaml", "devcloud")
    conns._admin = admin
    return conns


def test_a_scoped_login_refused_for_a_moment_is_tried_again(monkeypatch):
    admin = _Admin(refusals=2)
    conn = _connections(admin, monkeypatch).project("p1")
    assert admin.logins == 3 and conn is admin.made[-1] and not conn.closed
    assert all(c.closed for c in admin.made[:-1])  # the refused ones are closed


def test_a_scoped_login_refused_for_good_is_the_clouds_answer(monkeypatch):
    from provisioner.cloud.connection import SCOPED_LOGIN_TRIES
    admin = _Admin(refusals=100)
    with pytest.raises(errors.PermanentCloudError) as refused:
        _connections(admin, monkeypatch).project("p1")
    assert refused.value.message == errors.REJECTED_BY_CLOUD and admin.logins == SCOPED_LOGIN_TRIES
    assert all(c.closed for c in admin.made)
