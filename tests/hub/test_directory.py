"""The directory behind the History filter pickers: GET /operators and GET /officers.

Black-box over real HTTP against the module's hub (demo data). The one inactive account is made
with the hub's own account functions, as the admin CLI would, on the hub's database.
"""

from __future__ import annotations

from typing import Any

import pytest

from hub.server import HubServer
from tests.helpers.hub import add_retired_sergeant
from tests.hub.client import HubApi, expect

OPERATOR_FIELDS = {"id", "display_name", "rank", "role", "call_sign", "active"}
OFFICER_FIELDS = {"id", "collar_number", "rank", "surname", "forenames"}
# Nothing in a directory answer may look like a secret or personal detail it does not need.
FORBIDDEN_WORDS = ("password", "hash", "argon2", "failed", "token", "locked", "photo", "alerts")


def operator_key(entry: dict[str, Any]) -> tuple[str, int]:
    return entry["call_sign"].casefold(), entry["id"]


def officer_key(entry: dict[str, Any]) -> tuple[str, str, int]:
    return entry["surname"].lower(), entry["forenames"].lower(), entry["id"]


@pytest.fixture(scope="module")
def retired_sergeant(hub: HubServer) -> str:
    """A sergeant account that answered calls once and is now disabled: 'PS Abbott'."""
    return add_retired_sergeant(hub)


async def test_supervisor_lists_every_answering_operator_sorted_by_call_sign(
    api: HubApi, retired_sergeant: str
) -> None:
    patel = await api.login("patel")
    resp = await api.call("GET", "/operators", patel)
    listed = expect(resp, 200)
    assert [entry["call_sign"] for entry in listed] == [
        "Insp Patel",
        retired_sergeant,
        "PS Jones",
        "PS Smith",
    ]
    assert listed == sorted(listed, key=operator_key)
    for entry in listed:
        assert set(entry) == OPERATOR_FIELDS, entry
        assert entry["role"] in ("sergeant", "supervisor")
    by_sign = {entry["call_sign"]: entry for entry in listed}
    assert by_sign["PS Smith"] == {
        "id": by_sign["PS Smith"]["id"],
        "display_name": "Smith",
        "rank": "PS",
        "role": "sergeant",
        "call_sign": "PS Smith",
        "active": True,
    }
    assert by_sign["Insp Patel"]["role"] == "supervisor"
    # The disabled account stays listed (history still shows its calls), marked inactive.
    assert by_sign[retired_sergeant]["active"] is False
    # The admin manages accounts but never answers a call: not a filter choice.
    assert "Admin" not in {entry["display_name"] for entry in listed}
    text = resp.text.lower()
    for word in FORBIDDEN_WORDS:
        assert word not in text, f"{word!r} in the operator directory"


async def test_operator_ids_are_the_ids_history_filters_on(api: HubApi) -> None:
    """The id in the directory is the operator's own id (as `/auth/me` and history use)."""
    patel = await api.login("patel")
    smith = await api.login("smith")
    me = expect(await api.call("GET", "/auth/me", smith), 200)
    listed = expect(await api.call("GET", "/operators", patel), 200)
    assert {entry["call_sign"]: entry["id"] for entry in listed}["PS Smith"] == me["id"]


async def test_admin_may_list_operators_and_a_sergeant_may_not(api: HubApi) -> None:
    admin = await api.login("admin")
    assert len(expect(await api.call("GET", "/operators", admin), 200)) >= 3
    smith = await api.login("smith")
    expect(await api.call("GET", "/operators", smith), 403, "forbidden")


@pytest.mark.parametrize("username", ["smith", "patel", "admin"])
async def test_every_operator_lists_every_officer_sorted_by_name(
    api: HubApi, username: str
) -> None:
    token = await api.login(username)
    resp = await api.call("GET", "/officers", token)
    listed = expect(resp, 200)
    assert len(listed) >= 25, "expected ~30 demo officers"
    assert listed == sorted(listed, key=officer_key)
    assert len({entry["id"] for entry in listed}) == len(listed)
    for entry in listed:
        assert set(entry) == OFFICER_FIELDS, entry
    # Each summary agrees with the officer's full record.
    for entry in listed[:: max(1, len(listed) // 5)]:
        record = expect(await api.call("GET", f"/officers/{entry['id']}", token), 200)
        assert {key: record[key] for key in OFFICER_FIELDS} == entry
    happy = next(entry for entry in listed if entry["collar_number"] == "1001CW")
    assert (happy["rank"], happy["forenames"], happy["surname"]) == ("DC", "Jane", "Harper")
    text = resp.text.lower()
    for word in FORBIDDEN_WORDS:
        assert word not in text, f"{word!r} in the officer directory"


async def test_officer_list_holds_every_officer_on_record(api: HubApi) -> None:
    """No officer is left out: the ids listed are exactly those `GET /officers/{id}` knows."""
    admin = await api.login("admin")
    listed = expect(await api.call("GET", "/officers", admin), 200)
    ids = sorted(entry["id"] for entry in listed)
    assert ids == list(range(1, len(ids) + 1))
    expect(await api.call("GET", f"/officers/{len(ids) + 1}", admin), 404, "not_found")


async def test_devices_and_strangers_get_no_directory(api: HubApi) -> None:
    device = await api.device_token("1001CW")
    for path in ("/operators", "/officers"):
        expect(await api.call("GET", path, device), 403, "forbidden")
        expect(await api.call("GET", path), 401, "unauthorized")
        expect(await api.call("GET", path, "op_not-a-real-token"), 401, "unauthorized")


async def test_directory_is_read_only(api: HubApi) -> None:
    patel = await api.login("patel")
    for path in ("/operators", "/officers"):
        resp = await api.call("POST", path, patel, json_body={"display_name": "x"})
        expect(resp, 405, "method_not_allowed")
