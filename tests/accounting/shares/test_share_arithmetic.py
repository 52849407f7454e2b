"""Share arithmetic, table-driven: over-allocation factor, usage capped at the root, dates, a child outliving
its parent. First the plain arithmetic on hand-made trees, then the same rules through the services."""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from accounting.models import ComponentUsage
from accounting.shares import arithmetic, services
from accounting.shares.arithmetic import Draw, MonthUsage, Tree
from accounting.shares.models import Share
from accounting.shares.selectors import share_trees
from common.exceptions import Conflict, ValidationFailed
from events.models import Event
from tests.factories import ProjectFactory

D = Decimal
TODAY = date(2027, 6, 15)
YEAR = (date(2027, 1, 1), date(2027, 12, 31))
P1, P2, P3 = 1, 2, 3


def node(amount, *, project=None, dates=YEAR, id=None):
    return SimpleNamespace(
        id=id, amount=D(amount), project_id=project, parent_id=None if project is None else 100,
        start_date=dates[0], end_date=dates[1],
    )  # fmt: skip


def tree(root_amount, children=(), draws=(), usage=(), root_dates=YEAR):
    """children: (project, amount[, dates]); draws: (resource, project, amount); usage: (project, month, amount)."""
    root = node(root_amount, dates=root_dates, id=100)
    kids = [node(c[1], project=c[0], dates=c[2] if len(c) > 2 else YEAR, id=200 + i) for i, c in enumerate(children)]
    return Tree(
        root=root,
        children=kids,
        draws=[Draw(r, p, D(a)) for r, p, a in draws],
        usage=[MonthUsage(p, m, D(a)) for p, m, a in usage],
    )


MAY, JUNE = date(2027, 5, 1), date(2027, 6, 1)

# (case, tree, which node: "root" or a project id, excluding resource, expected left, allocated, used)
LEFT = [
    ("empty customer share", tree(1000), "root", None, 1000, 0, 0),
    ("children are given out of the root", tree(1000, [(P1, 300), (P2, 200)]), "root", None, 500, 500, 0),
    ("projects without a share draw from the root", tree(1000, [(P1, 300)], [(7, P2, 150)]), "root", None, 550, 450, 0),
    (
        "a project's limits do not draw from the root twice",
        tree(1000, [(P1, 300)], [(7, P1, 250)]),
        "root",
        None,
        700,
        300,
        0,
    ),
    ("a project share minus its project's limits", tree(1000, [(P1, 300)], [(7, P1, 250)]), P1, None, 50, 250, 0),
    ("the resource being changed is left out", tree(1000, [(P1, 300)], [(7, P1, 250)]), P1, 7, 300, 250, 0),
    ("over-allocated children leave the root nothing", tree(1000, [(P1, 700), (P2, 600)]), "root", None, 0, 1300, 0),
    (
        "usage is capped at the root: the child gets what the root has left",
        tree(1000, [(P1, 800), (P2, 800)], usage=[(P2, MAY, 700), (P1, JUNE, 100)]),
        P1,
        None,
        200,
        0,
        100,
    ),
    (
        "usage of the whole tree counts at the root",
        tree(1000, [(P1, 500)], usage=[(P1, MAY, 400), (P3, JUNE, 100)]),
        "root",
        None,
        500,
        500,
        500,
    ),
    (
        "usage beyond the root leaves nothing, never less",
        tree(1000, [(P1, 500)], usage=[(P2, MAY, 1200)]),
        P1,
        None,
        0,
        0,
        0,
    ),
    (
        "usage before the share's first month is not counted",
        tree(1000, usage=[(P1, date(2026, 12, 1), 900)]),
        "root",
        None,
        1000,
        0,
        0,
    ),
    (
        "usage of the start date's month counts",
        tree(1000, usage=[(P1, date(2027, 1, 1), 100)], root_dates=(date(2027, 1, 20), YEAR[1])),
        "root",
        None,
        900,
        0,
        100,
    ),
    (
        "a child's usage counts within its own dates only",
        tree(1000, [(P1, 500, (JUNE, YEAR[1]))], usage=[(P1, MAY, 50), (P1, JUNE, 20)]),
        P1,
        None,
        500,
        0,
        20,
    ),
    (
        "a share before its dates allows nothing",
        tree(1000, root_dates=(date(2027, 7, 1), YEAR[1])),
        "root",
        None,
        0,
        0,
        0,
    ),
    (
        "a share after its dates allows nothing",
        tree(1000, root_dates=(YEAR[0], date(2027, 6, 14))),
        "root",
        None,
        0,
        0,
        0,
    ),
    (
        "a child outside its own dates allows nothing",
        tree(1000, [(P1, 500, (date(2027, 7, 1), YEAR[1]))]),
        P1,
        None,
        0,
        0,
        0,
    ),
]


@pytest.mark.parametrize(("case", "the_tree", "which", "excluding", "left", "allocated", "used"), LEFT,
                         ids=[row[0] for row in LEFT])  # fmt: skip
def test_left_allocated_and_used(case, the_tree, which, excluding, left, allocated, used):
    share = the_tree.root if which == "root" else the_tree.child_of(which)
    assert arithmetic.left(the_tree, share, today=TODAY, excluding=excluding) == D(left)
    figures = arithmetic.figures(the_tree, share, today=TODAY)
    assert (figures.allocated, figures.used) == (D(allocated), D(used))
    if excluding is None:
        assert figures.remaining == D(left)


@pytest.mark.parametrize(
    ("parent", "children", "factor", "fits"),
    [
        (1000, [600, 400], "1.0", True),
        (1000, [600, 401], "1.0", False),
        (1000, [600, 600], "1.2", True),
        (1000, [600, 601], "1.2", False),
        (1000, [], "1.0", True),
        (0, [1], "2", False),
    ],
)
def test_over_allocation_factor(parent, children, factor, fits):
    assert arithmetic.children_fit(D(parent), [D(c) for c in children], D(factor)) is fits


# --- the same rules through the services --------------------------------------------------------

pytestmark = pytest.mark.django_db

# (factor, amounts of project shares already cut, the new one's amount, refused?)
DIVIDE = [
    ("1.0", [], 1000, False),
    ("1.0", [600], 400, False),
    ("1.0", [600], 401, True),
    ("1.5", [600, 600], 300, False),
    ("1.5", [600, 600], 301, True),
]


@pytest.mark.parametrize(("factor", "existing", "amount", "refused"), DIVIDE)
def test_dividing_a_share_respects_the_over_allocation_factor(
    settings, customer, customer_share, project_share, factor, existing, amount, refused
):
    settings.SHARE_OVERALLOCATION_FACTOR = D(factor)
    root = customer_share(1000)
    for cut in existing:
        project_share(root, ProjectFactory(customer=customer), cut)
    before = Share.objects.count()
    if refused:
        with pytest.raises(ValidationFailed) as refusal:
            project_share(root, ProjectFactory(customer=customer), amount)
        assert refusal.value.field == "amount"
        assert "over-allocation factor" in refusal.value.message
        assert Share.objects.count() == before
    else:
        share = project_share(root, ProjectFactory(customer=customer), amount)
        assert share.parent == root and share.amount == D(amount)


# (child start, child end, relative to today, with the parent from -30 to +300; refused field or None)
CHILD_DATES = [
    (None, None, None),  # the parent's dates
    (-30, 300, None),
    (0, 100, None),
    (-31, 100, "start_date"),  # starts before its parent
    (0, 301, "end_date"),  # outlives its parent: refused, not clipped
    (10, 5, "end_date"),  # ends before it starts
]


@pytest.mark.parametrize(("start", "end", "refused"), CHILD_DATES)
def test_a_child_lies_within_its_parent(customer_share, project_share, project, today, start, end, refused):
    root = customer_share(1000)
    if refused:
        with pytest.raises(ValidationFailed) as refusal:
            project_share(root, project, 10, start=start, end=end)
        assert refusal.value.field == refused
        assert not Share.objects.filter(parent=root).exists()
    else:
        child = project_share(root, project, 10, start=start, end=end)
        assert child.start_date >= root.start_date and child.end_date <= root.end_date
        assert child.end_date == (root.end_date if end is None else today + timedelta(days=end))


# (change to the customer share with a child of 600 from -30..100, refused field or None)
ROOT_CHANGES = [
    ({"amount": D(600)}, None),
    ({"amount": D(599)}, "amount"),  # below its project shares at factor 1.0
    ({"end_date": 100}, None),
    ({"end_date": 99}, "end_date"),  # the child would outlive its parent
    ({"start_date": -29}, "start_date"),
]


@pytest.mark.parametrize(("change", "refused"), ROOT_CHANGES)
def test_a_customer_share_keeps_room_for_its_children(customer_share, project_share, project, today, change, refused):
    root = customer_share(1000)
    project_share(root, project, 600, end=100)
    change = {k: today + timedelta(days=v) if k.endswith("_date") else v for k, v in change.items()}
    if refused:
        with pytest.raises(ValidationFailed) as refusal:
            services.share_update(actor=None, share=root, **change)
        assert refusal.value.field == refused
        root.refresh_from_db()
        assert (root.amount, root.end_date) == (D(1000), today + timedelta(days=300))
    else:
        services.share_update(actor=None, share=root, **change)
        root.refresh_from_db()
        assert all(getattr(root, k) == v for k, v in change.items())
        assert Event.objects.filter(event_type="share_changed", scope_uuid=root.customer.uuid).count() == 1


def test_customer_shares_of_one_component_must_not_overlap(customer_share):
    customer_share(1000, start=-30, end=30)
    with pytest.raises(Conflict):
        customer_share(1000, start=30, end=60)
    assert customer_share(1000, start=31, end=60).amount == D(1000)
    assert customer_share(5, start=0, end=30, component="storage_tb").component_type == "storage_tb"


def test_a_project_share_is_cut_from_its_own_customer_and_once(customer_share, project_share, project):
    root = customer_share(1000)
    with pytest.raises(ValidationFailed) as refusal:
        project_share(root, ProjectFactory(), 10)
    assert refusal.value.field == "project"
    project_share(root, project, 10)
    with pytest.raises(Conflict):
        project_share(root, project, 10)
    child = Share.objects.get(parent=root)
    with pytest.raises(ValidationFailed) as refusal:
        project_share(child, project, 1)
    assert refusal.value.field == "parent"


def test_usage_under_the_tree_is_capped_at_the_customer_share(
    settings, customer, customer_share, project_share, running, report_usage, today
):
    """Two projects promised 800 each of 1000 (factor 2): once one used 700, the other may take only 300."""
    settings.SHARE_OVERALLOCATION_FACTOR = D(2)
    first, second = ProjectFactory(customer=customer), ProjectFactory(customer=customer)
    root = customer_share(1000)
    project_share(root, first, 800)
    project_share(root, second, 800)
    heavy = running(first, 600)
    report_usage(heavy, 700)
    ComponentUsage.objects.create(  # per-user rows are not counted twice
        resource=heavy, component_type="cpu_k_hours", billing_period=today.replace(day=1), username="alice",
        usage=D(700), reported_at=heavy.created,
    )  # fmt: skip
    tree = share_trees([root])[root.id]
    assert arithmetic.left(tree, tree.child_of(second.id), today=today) == D(300)
    assert arithmetic.left(tree, tree.child_of(first.id), today=today) == D(200)  # its own 800 less its 600
