"""The hub's typed errors; app.py turns each into `{error, detail}` with its HTTP status."""

from __future__ import annotations


class HubError(Exception):
    """An expected failure with a protocol error code (docs/protocol.md, "errors")."""

    status = 400
    code = "invalid_request"

    def __init__(self, detail: str, *, holder: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.holder = holder


class UnauthorizedError(HubError):
    status, code = 401, "unauthorized"


class ForbiddenError(HubError):
    status, code = 403, "forbidden"


class NotFoundError(HubError):
    status, code = 404, "not_found"


class InvalidRequestError(HubError):
    status, code = 422, "invalid_request"


class IllegalTransitionError(HubError):
    status, code = 409, "illegal_transition"


class ClaimConflictError(HubError):
    status, code = 409, "claim_conflict"


class NotHolderError(HubError):
    status, code = 409, "not_holder"


class AlreadyActiveError(HubError):
    status, code = 409, "already_active"


class IdempotencyMismatchError(HubError):
    status, code = 422, "idempotency_mismatch"


class AccountLockedError(HubError):
    status, code = 423, "account_locked"


class UnsupportedMediaTypeError(HubError):
    status, code = 415, "unsupported_media_type"
