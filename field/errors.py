"""Typed failures of the field simulator, each with a one-line message fit for a terminal.

The CLI prints `str(error)` and exits with `error.exit_code`; the library raises the same types so
that the console's embedded demo stream and the tests can tell a refused token from a dead hub.
"""

from __future__ import annotations

from typing import Any


class FieldError(Exception):
    """Base class: something stopped the simulated device from completing a call."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        # The partial `field.device.CallResult` when the failure happened mid-call.
        self.result: Any = None

    def __str__(self) -> str:
        return self.message


class HubUnreachableError(FieldError):
    """No HTTP answer at all (connection refused, DNS, timeout)."""

    exit_code = 2

    def __init__(self, hub_url: str, cause: str) -> None:
        super().__init__(f"cannot reach the hub at {hub_url}: {cause}")


class TokenRefusedError(FieldError):
    """The hub answered 401/403 to the device token."""

    exit_code = 3

    def __init__(self, detail: str) -> None:
        super().__init__(f"the hub refused the device token: {detail}")


class HubRequestError(FieldError):
    """The hub answered with an error body we did not expect (409, 422, 5xx...)."""

    exit_code = 4

    def __init__(self, method: str, path: str, status: int, code: str, detail: str) -> None:
        super().__init__(f"hub said {status} {code} to {method} {path}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


class CallEndedBadlyError(FieldError):
    """The request reached expired/failed (or was cancelled by someone other than us)."""

    exit_code = 5


class MediaNotConnectedError(FieldError):
    """The sergeant answered but WebRTC media never started flowing."""

    exit_code = 6


class CallTimeoutError(FieldError):
    """We waited longer than our own limit for the hub to move the request on."""

    exit_code = 7
