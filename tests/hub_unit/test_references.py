"""Decision references: format, alphabet, randomness, normalising what people type."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hub.references import (
    CROCKFORD_ALPHABET,
    REFERENCE_PATTERN,
    is_reference,
    new_reference,
    normalise_reference,
)


def test_alphabet_is_crockford_base32() -> None:
    assert len(CROCKFORD_ALPHABET) == 32
    assert len(set(CROCKFORD_ALPHABET)) == 32
    assert not set("ILOU") & set(CROCKFORD_ALPHABET)


def test_new_references_are_well_formed() -> None:
    for _ in range(500):
        reference = new_reference()
        assert REFERENCE_PATTERN.match(reference), reference
        assert is_reference(reference)
        assert len(reference) == len("SC-4K7Q-2M")


def test_new_references_are_random() -> None:
    references = {new_reference() for _ in range(2000)}
    # 30 random bits: 2000 draws collide with probability ~0.2 %; allow one collision.
    assert len(references) >= 1999
    used = {ch for ref in references for ch in ref[3:].replace("-", "")}
    assert used == set(CROCKFORD_ALPHABET)


def test_malformed_references_are_rejected() -> None:
    for text in [
        "",
        "SC-4K7Q-2",
        "SC-4K7Q-2MM",
        "sc-4k7q-2m",
        "SC-4K7O-2M",
        "XX-4K7Q-2M",
        "SC-4KIQ-2M",
        "SC4K7Q2M",
    ]:
        assert not is_reference(text), text


def test_typed_references_are_normalised() -> None:
    assert normalise_reference(" sc-4k7q-2m ") == "SC-4K7Q-2M"
    assert normalise_reference("SC-OOIL-2M") == "SC-0011-2M"


@given(st.text(alphabet=CROCKFORD_ALPHABET, min_size=6, max_size=6))
def test_any_six_alphabet_chars_make_a_reference(chars: str) -> None:
    reference = f"SC-{chars[:4]}-{chars[4:]}"
    assert is_reference(reference)
    assert normalise_reference(reference.lower()) == reference
