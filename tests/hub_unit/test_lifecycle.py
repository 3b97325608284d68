"""The pure request state machine (hub/lifecycle.py) against docs/protocol.md's table."""

from __future__ import annotations

import itertools

import pytest

from hub.lifecycle import TRANSITIONS, Action, IllegalTransition, is_allowed, next_state
from protocol.schemas import TERMINAL_STATES, RequestState

S = RequestState

# docs/protocol.md "State machine", row by row (state-changing actions only).
DOCUMENTED = [
    (S.QUEUED, Action.CLAIM, S.CLAIMED),
    (S.QUEUED, Action.HANGUP, S.CANCELLED),
    (S.QUEUED, Action.EXPIRE, S.EXPIRED),
    (S.CLAIMED, Action.HANGUP, S.CANCELLED),
    (S.CLAIMED, Action.CONNECT, S.CONNECTED),
    (S.CLAIMED, Action.RELEASE, S.QUEUED),
    (S.CONNECTED, Action.RELEASE, S.QUEUED),
    (S.CLAIMED, Action.LEASE_LOST, S.QUEUED),
    (S.CONNECTED, Action.LEASE_LOST, S.QUEUED),
    (S.CLAIMED, Action.FAIL, S.FAILED),
    (S.CONNECTED, Action.FAIL, S.FAILED),
    (S.CLAIMED, Action.DECIDE, S.DECIDED),
    (S.CONNECTED, Action.DECIDE, S.DECIDED),
    (S.CONNECTED, Action.HANGUP, S.CONNECTED),
    (S.DECIDED, Action.END, S.ENDED),
    (S.DECIDED, Action.HANGUP, S.ENDED),
]


@pytest.mark.parametrize(("state", "action", "expected"), DOCUMENTED)
def test_documented_transitions(state: S, action: Action, expected: S) -> None:
    assert next_state(state, action) is expected


@pytest.mark.parametrize("state", sorted(TERMINAL_STATES))
@pytest.mark.parametrize("action", list(Action))
def test_terminal_states_accept_nothing(state: S, action: Action) -> None:
    with pytest.raises(IllegalTransition) as caught:
        next_state(state, action)
    assert caught.value.state is state
    assert caught.value.action is action
    assert state.value in str(caught.value)


def test_everything_outside_the_table_is_illegal() -> None:
    for state, action in itertools.product(RequestState, Action):
        if (state, action) in TRANSITIONS:
            assert is_allowed(state, action)
            next_state(state, action)
        else:
            assert not is_allowed(state, action)
            with pytest.raises(IllegalTransition):
                next_state(state, action)


def test_a_second_claim_is_illegal() -> None:
    for state in (S.CLAIMED, S.CONNECTED, S.DECIDED):
        with pytest.raises(IllegalTransition):
            next_state(state, Action.CLAIM)


@pytest.mark.parametrize("state", [S.CLAIMED, S.CONNECTED])
def test_lost_lease_after_the_device_left_fails_instead_of_requeueing(state: S) -> None:
    assert next_state(state, Action.LEASE_LOST, device_left=True) is S.FAILED
    assert next_state(state, Action.LEASE_LOST, device_left=False) is S.QUEUED


def test_release_after_the_device_left_fails() -> None:
    assert next_state(S.CONNECTED, Action.RELEASE, device_left=True) is S.FAILED


def test_state_neutral_actions_keep_the_state() -> None:
    assert next_state(S.CLAIMED, Action.ANSWER) is S.CLAIMED
    assert next_state(S.CONNECTED, Action.RENEW_LEASE) is S.CONNECTED
    assert next_state(S.CONNECTED, Action.SNAPSHOT) is S.CONNECTED


def test_no_path_leaves_a_terminal_state_or_reenters_queued_from_decided() -> None:
    reachable_from_decided = {t for (s, _), t in TRANSITIONS.items() if s is S.DECIDED}
    assert S.QUEUED not in reachable_from_decided
    assert all(s not in TERMINAL_STATES for (s, _) in TRANSITIONS)
