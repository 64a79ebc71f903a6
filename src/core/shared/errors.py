"""Domain errors. Each carries a stable error code from SPEC section 5; the HTTP layer maps
codes to status codes, so core never speaks HTTP."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[dict[str, Any]] = details or []


class InvalidResonanceKey(DomainError):
    """A key part is missing, extra or cannot be resolved; details list each bad part."""

    code = "INVALID_RESONANCE_KEY"


class ValidationFailed(DomainError):
    code = "VALIDATION_ERROR"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"

    def __init__(
        self, message: str, details: list[dict[str, Any]] | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message, details)
        # Set when the conflict is transient (a request still in progress), not a stale write.
        self.retry_after = retry_after


class PreconditionRequired(DomainError):
    code = "PRECONDITION_REQUIRED"


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"


class Unavailable(DomainError):
    """A dependency (DynamoDB, the model) is down or throttling; clients may retry later."""

    code = "UNAVAILABLE"

    def __init__(
        self, message: str, retry_after: int = 1, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message, details)
        self.retry_after = retry_after


class ModelUnavailable(Unavailable):
    """The model backend could not answer. Kept apart from the service's own failures: a model
    outage is not a routing failure and must not roll a new version back."""
