"""Decision references like `SC-4K7Q-2M`: Crockford base32 (no I, L, O, U), random."""

from __future__ import annotations

import re
import secrets

CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_PATTERN = re.compile(r"^SC-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$")


def new_reference() -> str:
    """A fresh random reference (30 bits); the caller retries on the rare collision."""
    chars = "".join(secrets.choice(CROCKFORD_ALPHABET) for _ in range(6))
    return f"SC-{chars[:4]}-{chars[4:]}"


def normalise_reference(text: str) -> str:
    """What a person typed → canonical form (upper case; O→0, I/L→1 as Crockford prescribes)."""
    cleaned = text.strip().upper().replace("O", "0").replace("I", "1").replace("L", "1")
    return cleaned.replace(" ", "")


def is_reference(text: str) -> bool:
    """True for a well-formed reference."""
    return bool(REFERENCE_PATTERN.match(text))
