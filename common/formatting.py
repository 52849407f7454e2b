"""Numbers as people write them, for every page we render (portal and admin alike).

Amounts are stored with many decimal places (usage with ten); on a page they read "1,042.25", money
"1,250.00 EUR" and a price per unit keeps the fractions of a cent it has: "0.000125 EUR".
"""

from decimal import Decimal, InvalidOperation

from django.conf import settings

EMPTY = "—"


def plain_number(amount) -> str:
    """A number to four decimals at most, without trailing zeros and with thousands separated: 1,042.25."""
    if amount is None or amount == "":
        return EMPTY
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.0001"))
    except (InvalidOperation, ValueError):
        return str(amount)
    whole, _, fraction = f"{amount:,f}".partition(".")
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def money_text(amount) -> str:
    """An amount of the site's currency (settings.CURRENCY): "1,250.00 EUR"."""
    if amount is None or amount == "":
        return EMPTY
    return f"{Decimal(str(amount)):,.2f} {settings.CURRENCY}"


def unit_price_text(amount) -> str:
    """A price per unit, which may be a fraction of a cent: "0.000125 EUR", "2.00 EUR"."""
    if amount is None or amount == "":
        return EMPTY
    amount = Decimal(str(amount)).quantize(Decimal("0.000001"))
    text = f"{amount:,f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')} {settings.CURRENCY}"
