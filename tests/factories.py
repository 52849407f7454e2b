import factory
from factory.django import DjangoModelFactory

from federation.models import Customer, Project, Role, RoleGrant, User
from federation.models.roles import ensure_roles


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    slug = factory.Sequence(lambda n: f"customer-{n}")
    abbreviation = factory.Sequence(lambda n: f"C{n}")


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = Project

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")


def grant(user, scope, role_name, **kwargs) -> RoleGrant:
    """Give `user` the role directly (fixtures only; the API goes through services)."""
    ensure_roles()  # a transactional test before this one may have flushed them
    field = "customer" if isinstance(scope, Customer) else "project"
    return RoleGrant.objects.create(user=user, role=Role.objects.get(name=role_name), **{field: scope}, **kwargs)
