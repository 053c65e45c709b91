"""The fast path of redaction (``_plainly_clean``): an ASCII value with fewer than 9 digits and
no hint of a card-code word is returned as it is, without running the rules. It must never
answer differently from the rules: checked at its boundaries (8 digits kept, 9 looked at; a
keyword next to 3 digits looked at), and against the full rules for thousands of generated
values, through ``redact_text`` and ``Redactor.identifier``."""

import random
import re

import pytest

from contacts import redaction
from contacts.redaction import (
    Redactor,
    _plainly_clean,
    compile_extra_pattern,
    has_luhn_run,
    is_stand_in,
    redact,
    redact_text,
    stand_in,
)

KEY = b"fast path key"


def _slow_identifier(value: str, redactor: Redactor) -> str:
    """Redactor.identifier without the fast path (what it did before)."""
    if not value:
        return ""
    if is_stand_in(value) or (not has_luhn_run(value) and redact(value).text == value):
        return value
    return stand_in(value, key=redactor.key)


@pytest.mark.parametrize(
    ("value", "clean"),
    [
        ("fb-12345", True),
        ("order 1234 5678", True),  # 8 digits: fewer than an SSN's 9
        ("123-45-678", True),  # 8 digits in an SSN's shape: not an SSN
        ("123-45-6789", False),  # 9 digits: the SSN rule must look
        ("123456789", False),
        ("4111 1111 1111 1111", False),
        ("cvv 123", False),  # a card-code word: the security-code rule must look
        ("CVC 1234", False),
        ("my pin 1234", False),
        ("security code 123", False),
        ("the 3 digit code", False),
        ("no numbers at all", True),
        ("no digits at all", False),  # "digit" is a hint of "3 digit code"
        ("", True),
    ],
)
def test_the_fast_path_at_its_boundaries(value, clean):
    assert _plainly_clean(value) is clean
    if clean:
        assert redact(value).text == value


def test_what_the_fast_path_passes_by_is_still_redacted():
    assert redact_text("SSN 123-45-6789") == "SSN [SSN redacted]"
    assert redact_text("ssn 123-45-6789 ok") == "ssn [SSN redacted] ok"
    assert redact_text("cvv 123") == "cvv [security code redacted]"
    assert redact_text("card 4111 1111 1111 1111") == "card [card number redacted]"
    redactor = Redactor(key=KEY)
    assert redactor.identifier("id-123-45-6789") == stand_in("id-123-45-6789", key=KEY)
    assert redactor.identifier("cvv-123") == stand_in("cvv-123", key=KEY)
    assert redactor.identifier("fb-12345678") == "fb-12345678"  # 8 digits: kept


def test_non_ascii_and_extra_patterns_take_the_full_rules():
    # Full-width digits are digits to the rules; the fast path only reads ASCII.
    wide = "id-４１１１１１１１１１１１１１１１"
    assert not wide.isascii()
    assert redact_text(wide) == "id-[card number redacted]"
    assert Redactor(key=KEY).identifier(wide) == stand_in(wide, key=KEY)
    # An admin's pattern may take anything: no fast path with one.
    pattern = compile_extra_pattern(r"ACCT-[A-Z]{3}")
    redactor = Redactor(extra_patterns=(("account", pattern),), key=KEY)
    assert redactor.text("ref ACCT-ABC 12") == "ref [account redacted] 12"
    assert redactor.identifier("ACCT-ABC") == stand_in("ACCT-ABC", key=KEY)


def test_the_fast_path_skips_the_rules(monkeypatch):
    calls = []
    real = redaction._one_pass
    monkeypatch.setattr(redaction, "_one_pass", lambda *args: calls.append(args[0]) or real(*args))
    redactor = Redactor(key=KEY)
    assert redactor.identifier("fb-20261206") == "fb-20261206"
    assert redact_text("order 12345 arrived") == "order 12345 arrived"
    assert calls == []
    redactor.identifier("fb-123456789")  # 9 digits: the rules run
    assert calls == ["fb-123456789"]


_PIECES = [
    "4111", "1111", "12", "3", "45", "6789", "555", "0000", "9", "20261206",
    " ", "-", ".", "/", "  ", "\t", "\n", ":", "_",
    "id", "order", "cvv", "CVC", "pin", "ssn", "code on the back", "security code", "digits",
    "sec", "cid", "ref", "x",
]  # fmt: skip


def test_the_fast_path_agrees_with_the_rules_on_generated_values():
    rng = random.Random(13)
    redactor = Redactor(key=KEY)
    fast = 0
    for _ in range(6000):
        value = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 9)))
        expected_text = redact(value).text
        assert redact_text(value) == expected_text, value
        assert redactor.identifier(value) == _slow_identifier(value, redactor), value
        if _plainly_clean(value):
            fast += 1
            assert expected_text == value and not has_luhn_run(value), value
            assert len(re.findall(r"[0-9]", value)) < 9
    assert fast > 1000  # the generated values exercise the fast path, not only the rules
