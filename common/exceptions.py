"""The domain's one exception hierarchy; `common.api.exceptions` maps it to HTTP in one place."""


class DomainError(Exception):
    """A refused request. `field` names the input it is about as a dotted path: "project", or
    "limits.gpus" for one key of an object-valued field. Give the path as a tuple when a key comes
    from data and may itself hold a dot (`field=("limits", key)`). `path` is the same path as a tuple;
    the API nests the message by it and the portal forms find their field by it, never by the wording.
    """

    status_code = 400

    def __init__(self, message: str, *, field: str | tuple[str, ...] | None = None):
        super().__init__(message)
        self.message = message
        if isinstance(field, tuple):
            self.path: tuple[str, ...] = tuple(str(key) for key in field)
        else:
            self.path = tuple(field.split(".")) if field else ()
        self.field = ".".join(self.path) or None


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

    def __init__(self, message: str, *, retry_after: int, field: str | tuple[str, ...] | None = None):
        super().__init__(message, field=field)
        self.retry_after = retry_after


class UpstreamUnavailable(DomainError):
    """A service we depend on did not answer (502)."""

    status_code = 502
