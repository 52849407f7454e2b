"""One `visible_to` for every model: nobody signed in sees nothing, staff and support see everything,
everyone else sees what the model's own rule (`_visible_to_member`) lets through."""

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser

from common.querysets import VisibleQuerySet, reads_everything
from federation.models import Customer
from federation.permissions import sees_everything

EXPECTED = {
    "federation.Customer", "federation.Project", "federation.User", "marketplace.Offering", "marketplace.Plan",
    "marketplace.Order", "marketplace.Resource", "marketplace.StateChange", "providers.Provider",
    "accounting.ComponentUsage",
}  # fmt: skip


def visible_models():
    return [model for model in apps.get_models() if hasattr(model._default_manager, "visible_to")]


def test_every_visible_to_is_the_one_base_with_a_per_model_rule():
    models = visible_models()
    assert {model._meta.label for model in models} >= EXPECTED
    for model in models:
        queryset_class = type(model._default_manager.all())
        assert issubclass(queryset_class, VisibleQuerySet), model._meta.label
        assert queryset_class.visible_to is VisibleQuerySet.visible_to, f"{model._meta.label} restates visible_to"
        assert queryset_class._visible_to_member is not VisibleQuerySet._visible_to_member, model._meta.label


@pytest.mark.django_db
def test_the_anonymous_see_nothing_without_a_query_and_readers_see_all(staff, support, django_assert_num_queries):
    for model in visible_models():
        manager = model._default_manager
        with django_assert_num_queries(0):
            assert list(manager.visible_to(AnonymousUser())) == []
        for reader in (staff, support):
            assert str(manager.visible_to(reader).query) == str(manager.all().query), model._meta.label


class _OnlyAcme(VisibleQuerySet):
    def _visible_to_member(self, user):
        return self.filter(abbreviation="ACME")


def test_members_get_the_models_rule(customer, outsider, staff, support):
    queryset = _OnlyAcme(model=Customer)
    assert list(queryset.visible_to(outsider)) == [customer]
    assert set(queryset.visible_to(staff)) == set(queryset.visible_to(support)) == set(Customer.objects.all())
    assert Customer.objects.count() == 2


def test_a_queryset_without_a_rule_shows_members_nothing_by_accident(outsider):
    with pytest.raises(NotImplementedError, match="must say what a member sees"):
        VisibleQuerySet(model=Customer).visible_to(outsider)


def test_the_permission_checks_and_the_querysets_agree_on_global_readers(staff, support, member, outsider):
    for user in (AnonymousUser(), staff, support, member, outsider):
        assert sees_everything(user) == reads_everything(user) == (user in (staff, support))
