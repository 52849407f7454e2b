"""What every admin page shares: numbers as people write them.

Decimal fields are stored with up to ten places; Django's admin prints them all ("462.7500000000").
`number_field` makes a column or read-only field that prints them as the portal does ("462.75",
"1,250.00 EUR"), sortable by the underlying field.
"""

from collections.abc import Callable

from django.contrib import admin

from .formatting import money_text, plain_number, unit_price_text

FORMATS: dict[str, Callable] = {"plain": plain_number, "money": money_text, "unit_price": unit_price_text}


def number_field(name: str, description: str, *, kind: str = "plain", sortable: bool = True):
    """An admin method showing the decimal `name` of an object (an attribute or a model field) readably.

    Assign it in a ModelAdmin class body (`usage_shown = number_field("usage", "Usage")`) and name the
    attribute in `list_display`, `readonly_fields` or `fields`.
    """
    show = FORMATS[kind]

    def field(self, obj):
        return show(getattr(obj, name))

    return admin.display(description=description, ordering=name if sortable else None)(field)
