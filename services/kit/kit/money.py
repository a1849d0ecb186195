"""Money: exact decimals in whole cents, serialized as strings ("19.99")."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import PlainSerializer

CENT = Decimal("0.01")


def money(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """`value` in whole cents (two places, so 19.9 and 19.90 store and print alike)."""
    return value.quantize(CENT, rounding=rounding)


# A response field: always two places, as a string (a JSON number would lose exactness).
Money = Annotated[Decimal, PlainSerializer(lambda d: str(money(d)), return_type=str)]
