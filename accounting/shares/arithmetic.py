"""What a share has given out, what was used under it and what is left: plain arithmetic on one tree.

A tree is one customer share (the root) with the project shares cut from it, the limits that live
resources hold in its offering component, and the usage of those resources. Everything is read in
a fixed number of queries by `selectors.share_trees`; nothing here touches the database.

    allocated  root:    the children's amounts + the limits of resources of projects with no share of it
               project: the limits of the project's resources
    used       root:    usage of every resource of the customer in the offering (the whole tree)
               project: usage of the project's resources
    left       own:     amount − allocated                      (what the share itself still has)
               capped:  never more than root.amount − root.used (combined usage is capped at the root)
               0 outside the share's dates, and never below 0

Usage counts the monthly rows of the resource as a whole (`ComponentUsage`, username "") whose
billing month starts within the share's dates (from the first of the start date's month to the end
date). A resource's limit is its current one, or the one its open update order asks for when higher.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class Draw:
    """The limit one live resource holds in the tree's component."""

    resource_id: int
    project_id: int
    amount: Decimal


@dataclass(frozen=True)
class MonthUsage:
    project_id: int
    month: date
    amount: Decimal


@dataclass(frozen=True)
class Figures:
    allocated: Decimal
    used: Decimal
    remaining: Decimal


@dataclass
class Tree:
    root: object  # a root Share (anything with amount, start_date, end_date, id)
    children: list = field(default_factory=list)
    draws: list[Draw] = field(default_factory=list)
    usage: list[MonthUsage] = field(default_factory=list)

    def child_of(self, project_id: int):
        return next((child for child in self.children if child.project_id == project_id), None)


def month_start(day: date) -> date:
    return day.replace(day=1)


def is_current(share, today: date) -> bool:
    return share.start_date <= today <= share.end_date


def usage_within(usage: list[MonthUsage], start: date, end: date, project_id: int | None = None) -> Decimal:
    first = month_start(start)
    return sum(
        (row.amount for row in usage if first <= row.month <= end and project_id in (None, row.project_id)),
        start=ZERO,
    )


def children_fit(parent_amount: Decimal, children_amounts, factor: Decimal) -> bool:
    """Whether project shares adding up to this stay within the customer share times the over-allocation factor."""
    return sum(children_amounts, start=ZERO) <= parent_amount * factor


def _drawn(tree: Tree, share, excluding: int | None) -> Decimal:
    draws = (draw for draw in tree.draws if draw.resource_id != excluding)
    if share.parent_id is None:
        with_shares = {child.project_id for child in tree.children}
        own = (draw.amount for draw in draws if draw.project_id not in with_shares)
        return sum((child.amount for child in tree.children), start=ZERO) + sum(own, start=ZERO)
    return sum((draw.amount for draw in draws if draw.project_id == share.project_id), start=ZERO)


def used(tree: Tree, share) -> Decimal:
    project_id = None if share.parent_id is None else share.project_id
    return usage_within(tree.usage, share.start_date, share.end_date, project_id)


def left(tree: Tree, share, *, today: date, excluding: int | None = None) -> Decimal:
    """What a new or raised limit may still take from `share` (a node of `tree`) today."""
    if not is_current(share, today) or not is_current(tree.root, today):
        return ZERO
    own = share.amount - _drawn(tree, share, excluding)
    capped = tree.root.amount - used(tree, tree.root)
    return max(ZERO, min(own, capped))


def figures(tree: Tree, share, *, today: date) -> Figures:
    return Figures(
        allocated=_drawn(tree, share, None), used=used(tree, share), remaining=left(tree, share, today=today)
    )
