"""Errors of the monitoring package; each builds its own message."""


class MonitoringError(Exception):
    """Base class of the errors raised on purpose here."""


class CloudUnavailable(MonitoringError):
    """The cloud could not be reached or answered with an error during a collection."""

    def __init__(self, cloud, reason):
        self.cloud = cloud
        self.reason = reason
        super().__init__(f"cloud {cloud!r} unavailable: {reason}")


class AlertmanagerUnavailable(MonitoringError):
    """Alertmanager's API could not be reached or refused a call."""

    def __init__(self, url, reason):
        self.url = url
        self.reason = reason
        super().__init__(f"Alertmanager {url} unavailable: {reason}")
