"""Tokens, enrolment codes and password hashing."""

from __future__ import annotations

from hub.security import (
    DEVICE_TOKEN_PREFIX,
    ENROLMENT_CODE_ALPHABET,
    OPERATOR_TOKEN_PREFIX,
    Passwords,
    new_device_token,
    new_enrolment_code,
    new_operator_token,
    normalise_enrolment_code,
    token_hash,
)


def test_tokens_have_their_prefix_and_are_unique() -> None:
    operator = {new_operator_token() for _ in range(200)}
    device = {new_device_token() for _ in range(200)}
    assert all(t.startswith(OPERATOR_TOKEN_PREFIX) for t in operator)
    assert all(t.startswith(DEVICE_TOKEN_PREFIX) for t in device)
    assert len(operator) == 200
    assert len(device) == 200
    assert min(len(t) for t in operator | device) >= 40


def test_token_hash_is_sha256_hex_and_hides_the_token() -> None:
    token = new_operator_token()
    digest = token_hash(token)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert token not in digest
    assert token_hash(token) == digest
    assert token_hash(token + "x") != digest


def test_enrolment_codes_are_readable_and_normalise() -> None:
    code = new_enrolment_code()
    parts = code.split("-")
    assert [len(p) for p in parts] == [4, 4, 4]
    assert set("".join(parts)) <= set(ENROLMENT_CODE_ALPHABET)
    assert normalise_enrolment_code(code.lower().replace("-", " ")) == "".join(parts)


def test_passwords_verify_only_the_right_one() -> None:
    passwords = Passwords(time_cost=1, memory_kib=8, parallelism=1)
    stored = passwords.hash("correct horse")
    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "correct horse")
    assert not passwords.verify(stored, "correct horse ")
    assert not passwords.verify(None, "anything")
    assert not passwords.verify("not-a-hash", "correct horse")
