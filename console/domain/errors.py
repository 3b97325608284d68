"""Errors a sergeant may meet, each with a short actionable message safe to show on screen.

Adapters translate transport failures into these; services and view-models pass them to the one
message bar. Anything else is a bug and goes to the crash funnel.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """Base: `message` is what the message bar shows (what happened + what to do next)."""

    def __init__(self, message: str, *, code: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class HubUnreachableError(UserFacingError):
    """The hub did not answer (down, network cut, timeout)."""

    def __init__(
        self,
        message: str = "The hub is not reachable. Retrying; check the network "
        "or call the control-room engineer if this persists.",
    ) -> None:
        super().__init__(message, code="hub_unreachable")


class AuthenticationError(UserFacingError):
    """Wrong credentials, expired session or revoked token."""


class AccountLockedError(AuthenticationError):
    pass


class PermissionDeniedError(UserFacingError):
    pass


class ClaimLostError(UserFacingError):
    """Another sergeant answered first. `holder` is their call sign, e.g. 'PS Jones'."""

    def __init__(self, holder: str | None) -> None:
        who = holder or "another sergeant"
        super().__init__(f"Taken by {who}.", code="claim_conflict")
        self.holder = holder


class IllegalTransitionError(UserFacingError):
    """The request is no longer in a state that allows this (e.g. the officer hung up)."""


class StreamCursorAheadError(UserFacingError):
    """Our event-stream position is newer than anything the hub has: its database was replaced
    or restored. The position must be forgotten and the queue reloaded."""


class NotFoundError(UserFacingError):
    pass


class InvalidInputError(UserFacingError):
    """The hub refused our input (422/413): a bug or a stale form; the detail says which."""


class MediaError(UserFacingError):
    """Camera, microphone or the call's media failed."""
