"""Currencies' minor units (ISO 4217): how many decimal places a price in each may have."""

from __future__ import annotations

from decimal import Decimal

DEFAULT_PLACES = 2
# Every priceable currency not listed has two decimal places.
_PLACES = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX"), 0),
    **dict.fromkeys(("VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
MAX_PLACES = max(_PLACES.values())


def places(currency: str) -> int:
    return _PLACES.get(currency, DEFAULT_PLACES)


def fits(amount: Decimal, currency: str) -> bool:
    """Whether the amount can be paid in the currency: no finer than its minor unit."""
    return amount == amount.quantize(Decimal(1).scaleb(-places(currency)))


def in_minor_units(amount: Decimal, currency: str) -> Decimal:
    """The amount written with exactly the currency's places: 8500 JPY, 25.00 EUR, 1.250 KWD."""
    return amount.quantize(Decimal(1).scaleb(-places(currency)))
