"""List pages: column headers that sort by the filter set's `o` parameter, keeping the other filters."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context, field: str, label: str):
    """A column header linking to the list sorted by `field`: ascending first, descending when it already
    is ascending; `aria-sort` tells assistive technology how the list is sorted now. The page number is
    dropped (a new order starts at the first page)."""
    query = context["request"].GET.copy()
    current = query.get("o", "")
    direction = {field: "ascending", f"-{field}": "descending"}.get(current)
    query["o"] = f"-{field}" if direction == "ascending" else field
    query.pop("page", None)
    arrow = {"ascending": " ▲", "descending": " ▼"}.get(direction, "")
    aria = format_html(' aria-sort="{}"', direction) if direction else ""
    return format_html('<th scope="col"{}><a href="?{}">{}{}</a></th>', aria, query.urlencode(), label, arrow)
