from __future__ import annotations

import pyarrow as pa
import pytest

from featmesh.connector.profiling.pii import iban_ok, luhn_ok, scan_pii


def test_luhn_and_iban_checks() -> None:
    assert luhn_ok("4111 1111 1111 1111")
    assert not luhn_ok("4111 1111 1111 1112")
    assert iban_ok("NL91 ABNA 0417 1643 00")
    assert not iban_ok("NL92 ABNA 0417 1643 00")


def test_scan_names_patterns_and_shares_never_values() -> None:
    values = pa.array(
        [
            "ann@example.com",
            "see bob@example.org today",
            "+31 20 123 4567",
            "NL91ABNA0417164300",
            "4111-1111-1111-1111",
            "4111-1111-1111-1112",
            "10.1.2.3",
            "2001:db8::7",
            "plain",
            None,
        ]
    )
    found = {m.pattern: m for m in scan_pii(values)}
    assert set(found) == {"email", "phone_number", "iban", "card_number", "ip_address"}
    assert found["email"].share == pytest.approx(2 / 9, abs=1e-4) and found["email"].sampled == 9
    assert found["card_number"].share == pytest.approx(1 / 9, abs=1e-4)  # the failing Luhn one is not counted
    assert found["ip_address"].share == pytest.approx(2 / 9, abs=1e-4)  # and the IPv4 address is not a phone
    assert found["phone_number"].share == pytest.approx(1 / 9, abs=1e-4)
    assert "ann" not in repr(found)


def test_no_pii_in_plain_words() -> None:
    assert scan_pii(pa.array(["alpha", "beta", "12", "2024-06-01", "1234567", "3.14159265"])) == ()


def test_national_phone_numbers() -> None:
    found = scan_pii(pa.array(["0612345678", "(020) 555-0199", "123456789"]))
    assert [(m.pattern, round(m.share, 2)) for m in found] == [("phone_number", 0.67)]
