"""The request state machine: a pure table of (state, action) → state used by every transition.

docs/protocol.md ("State machine") is the human version of TRANSITIONS. Anything not in the table is
an illegal transition: the caller answers 409 `illegal_transition` and changes nothing.
"""

from __future__ import annotations

from enum import StrEnum

from protocol.schemas import RequestState

S = RequestState


class Action(StrEnum):
    """What someone (sergeant, device, hub) asks to do to a request."""

    CLAIM = "claim"
    HANGUP = "hangup"  # the device hung up
    EXPIRE = "expire"  # nobody answered in time (hub)
    ANSWER = "answer"  # the holder posts its SDP answer (state unchanged)
    RENEW_LEASE = "renew_lease"  # (state unchanged)
    CONNECT = "connect"
    RELEASE = "release"  # the holder gives it back
    LEASE_LOST = "lease_lost"  # the hub takes it back after the lease lapsed
    FAIL = "fail"
    DECIDE = "decide"
    END = "end"
    SNAPSHOT = "snapshot"  # (state unchanged)


class IllegalTransition(Exception):  # noqa: N818 - the protocol's name for it
    """`action` is not allowed in `state`."""

    def __init__(self, state: RequestState, action: Action) -> None:
        super().__init__(f"Cannot {action.value.replace('_', ' ')} a request that is {state.value}")
        self.state = state
        self.action = action


TRANSITIONS: dict[tuple[RequestState, Action], RequestState] = {
    (S.QUEUED, Action.CLAIM): S.CLAIMED,
    (S.QUEUED, Action.HANGUP): S.CANCELLED,
    (S.QUEUED, Action.EXPIRE): S.EXPIRED,
    (S.CLAIMED, Action.HANGUP): S.CANCELLED,
    (S.CLAIMED, Action.ANSWER): S.CLAIMED,
    (S.CLAIMED, Action.RENEW_LEASE): S.CLAIMED,
    (S.CLAIMED, Action.CONNECT): S.CONNECTED,
    (S.CLAIMED, Action.RELEASE): S.QUEUED,
    (S.CLAIMED, Action.LEASE_LOST): S.QUEUED,
    (S.CLAIMED, Action.FAIL): S.FAILED,
    (S.CLAIMED, Action.DECIDE): S.DECIDED,
    (S.CLAIMED, Action.SNAPSHOT): S.CLAIMED,
    (S.CONNECTED, Action.HANGUP): S.CONNECTED,  # only sets device_left
    (S.CONNECTED, Action.RENEW_LEASE): S.CONNECTED,
    (S.CONNECTED, Action.RELEASE): S.QUEUED,
    (S.CONNECTED, Action.LEASE_LOST): S.QUEUED,
    (S.CONNECTED, Action.FAIL): S.FAILED,
    (S.CONNECTED, Action.DECIDE): S.DECIDED,
    (S.CONNECTED, Action.SNAPSHOT): S.CONNECTED,
    (S.DECIDED, Action.END): S.ENDED,
    (S.DECIDED, Action.HANGUP): S.ENDED,
    (S.DECIDED, Action.RENEW_LEASE): S.DECIDED,
    (S.DECIDED, Action.SNAPSHOT): S.DECIDED,
    (S.DECIDED, Action.LEASE_LOST): S.ENDED,  # the console vanished after deciding
}


def next_state(state: RequestState, action: Action, *, device_left: bool = False) -> RequestState:
    """The state after `action`, or raise IllegalTransition.

    Two rules depend on `device_left`: a lost lease on a request whose device has left fails
    instead of re-queueing (nobody is there to answer), and a decision on such a request is
    followed at once by `end` (the caller applies that second step).
    """
    try:
        target = TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(state, action) from None
    if action is Action.LEASE_LOST and device_left and target is S.QUEUED:
        return S.FAILED
    if action is Action.RELEASE and device_left:
        return S.FAILED
    return target


def is_allowed(state: RequestState, action: Action) -> bool:
    """True when `action` is legal in `state`."""
    return (state, action) in TRANSITIONS
