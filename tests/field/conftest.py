"""Fixtures for the field simulator's tests: a real hub on loopback (tests/helpers/hub.py)."""

from tests.helpers.hub import hub_server

__all__ = ["hub_server"]
