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
    """401: no, unknown, expired or revoked credentials."""

    status, code = 401, "unauthorized"


class ForbiddenError(HubError):
    """403: the wrong kind of caller or role."""

    status, code = 403, "forbidden"


class NotFoundError(HubError):
    """404: no such resource (or not visible to this caller)."""

    status, code = 404, "not_found"


class InvalidRequestError(HubError):
    """422: a well-formed request that breaks a rule."""

    status, code = 422, "invalid_request"


class IllegalTransitionError(HubError):
    """409: the action is not allowed in the request's state."""

    status, code = 409, "illegal_transition"


class ClaimConflictError(HubError):
    """409: someone else claimed the request first (`holder` names them)."""

    status, code = 409, "claim_conflict"


class NotHolderError(HubError):
    """409: a holder-only action by an operator who does not hold the request."""

    status, code = 409, "not_holder"


class CursorAheadError(HubError):
    """409: an event cursor newer than anything this hub has stored (its database was replaced or
    restored from a backup): the client must reload its state and reconnect without a cursor."""

    status, code = 409, "cursor_ahead"


class AlreadyActiveError(HubError):
    """409: the device already has a request that is not finished."""

    status, code = 409, "already_active"


class IdempotencyMismatchError(HubError):
    """422: an Idempotency-Key re-used with a different body."""

    status, code = 422, "idempotency_mismatch"


class AccountLockedError(HubError):
    """423: the account is locked after too many failed sign-ins."""

    status, code = 423, "account_locked"


class UnsupportedMediaTypeError(HubError):
    """415: a body of a media type this endpoint does not take."""

    status, code = 415, "unsupported_media_type"
