"""Currencies' minor units: which prices a currency can take, and how they are written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from boxoffice import money


@pytest.mark.parametrize(
    ("amount", "currency", "fits"),
    [
        ("8500", "JPY", True),
        ("8500.5", "JPY", False),
        ("8500.00", "JPY", True),  # the same amount
        ("19.99", "EUR", True),
        ("19.999", "USD", False),
        ("1.250", "KWD", True),
        ("1.2505", "KWD", False),
        ("100", "CLP", True),
    ],
)
def test_a_price_must_fit_its_currencys_minor_unit(amount: str, currency: str, fits: bool) -> None:
    assert money.fits(Decimal(amount), currency) is fits


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [("8500", "JPY", "8500"), ("25", "EUR", "25.00"), ("1.25", "KWD", "1.250"), ("1E+2", "USD", "100.00")],
)
def test_amounts_are_written_with_exactly_the_currencys_places(amount: str, currency: str, written: str) -> None:
    assert f"{money.in_minor_units(Decimal(amount), currency):f}" == written
