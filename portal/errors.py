"""Domain errors of the portal; each builds its own message."""
from .text import _l


class PortalError(Exception):
    """Base class of every error the portal raises on purpose."""

    http_status = 400

    def __init__(self, message=None):
        self.explicit = message is not None  # a message of its own, not the class's default
        self.message = message or self.default_message()
        super().__init__(str(self.message))

    def default_message(self):
        return _l("The operation could not be completed.")


class ConfigError(Exception):
    """The configuration is missing a required key or holds a bad value."""

    def __init__(self, key, problem):
        self.key = key
        self.problem = problem
        super().__init__(f"govcloud configuration error: {key}: {problem}")


class NotFound(PortalError):
    """The object does not exist or is outside the user's scope."""

    http_status = 404

    def __init__(self, kind, ident):
        self.kind = kind
        self.ident = ident
        super().__init__(_l("%(kind)s %(ident)s was not found.", kind=kind, ident=ident))


class Forbidden(PortalError):
    """The user's role does not allow the operation."""

    http_status = 403

    def default_message(self):
        return _l("You are not allowed to do this.")


class ValidationFailed(PortalError):
    """Input breaks a business rule; field names the offending form field."""

    def __init__(self, message, field=None):
        self.field = field
        super().__init__(message)


class InputInvalid(ValidationFailed):
    """Fields break their schema; `problems` lists (field, message)."""

    def __init__(self, problems, message=None):
        self.problems = problems
        super().__init__(message or _l("Some fields are not valid: correct the marked fields."))


class WrongState(ValidationFailed):
    """The object is not in a state where this applies (e.g. editing a submitted request)."""

    http_status = 409


class Conflict(ValidationFailed):
    """A unique value (code, username) is already taken."""


class AuthenticationFailed(PortalError):
    """Username or password is wrong, or the account is disabled."""

    http_status = 401

    def default_message(self):
        # one message for an unknown user, a wrong password, a locked or a disabled account
        return _l("Wrong username or password, or the account is locked for a while after repeated failures.")


class AccountLocked(PortalError):
    """Too many failed logins: the account is locked until a time."""

    http_status = 403

    def __init__(self, until):
        self.until = until
        super().__init__(_l("Too many failed logins. The account is locked, try again later."))


class RateLimited(PortalError):
    """Too many failed logins from one address."""

    http_status = 429

    def default_message(self):
        return _l("Too many login attempts from your address. Please wait and try again.")


class Immutable(PortalError):
    """The object is frozen (e.g. a 费用结算单 after approval) and can no longer change."""

    http_status = 409

    def __init__(self, kind, ident):
        self.kind = kind
        self.ident = ident
        super().__init__(_l("%(kind)s %(ident)s is frozen and cannot be changed.", kind=kind, ident=ident))
