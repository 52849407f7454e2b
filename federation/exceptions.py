"""The domain's one exception hierarchy; `federation.api.exceptions` maps it to HTTP in one place."""


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """Bad input (400). `field` names the offending field when there is one."""

    status_code = 400


class PermissionDenied(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """The object is in the wrong state for this action (409)."""

    status_code = 409


class InvalidTransition(Conflict):
    pass


class TooManyAttempts(DomainError):
    """Refused for now (429); `retry_after` is the number of seconds until a retry may succeed."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int, field: str | None = None):
        super().__init__(message, field=field)
        self.retry_after = retry_after


class UpstreamUnavailable(DomainError):
    """A service we depend on did not answer (502)."""

    status_code = 502
