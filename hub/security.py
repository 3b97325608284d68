"""Secrets: random bearer tokens (stored only as SHA-256), enrolment codes, Argon2 passwords."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

OPERATOR_TOKEN_PREFIX = "op_"
DEVICE_TOKEN_PREFIX = "dev_"
ENROLMENT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud safely


def new_operator_token() -> str:
    """A fresh operator bearer token."""
    return OPERATOR_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_device_token() -> str:
    """A fresh device bearer token."""
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_enrolment_code() -> str:
    """A one-time enrolment code like `7KQ4-M2XD-9HPA`, easy to read out and type."""
    raw = "".join(secrets.choice(ENROLMENT_CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_enrolment_code(code: str) -> str:
    """Upper-case, no spaces or dashes: what we hash."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def token_hash(token: str) -> str:
    """SHA-256 hex of a token or code; the database never stores the secret itself."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Passwords:
    """Argon2id hashing with configurable cost (tests lower it)."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4) -> None:
        self.params = (time_cost, memory_kib, parallelism)
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        # Verifying against this keeps unknown usernames as slow as wrong passwords.
        self._dummy_hash = self._hasher.hash("not-a-real-password")

    def hash(self, password: str) -> str:
        """Argon2id hash of `password`."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; never raises for a bad or missing hash."""
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False
