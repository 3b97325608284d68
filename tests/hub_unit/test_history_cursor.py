"""History keyset cursors: opaque round trip, and a clear 422 for anything forged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.errors import InvalidRequestError
from hub.history import decode_cursor, encode_cursor


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=1, max_value=2**63 - 1),
)
def test_cursor_round_trips(moment: datetime, request_id: int) -> None:
    aware = moment.replace(tzinfo=UTC)
    assert decode_cursor(encode_cursor(aware, request_id)) == (aware, request_id)


@pytest.mark.parametrize(
    "cursor",
    ["", "zzz", "!!!!", "WyJub3QgYSBkYXRlIiwgMV0", "WzEsIDJd", "e30", "WyIyMDI2LTAxLTAxIiwgMV0"],
)
def test_forged_cursors_are_invalid_requests(cursor: str) -> None:
    with pytest.raises(InvalidRequestError):
        decode_cursor(cursor)
