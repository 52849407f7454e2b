"""`role_grants_visible_to` with `scope_seen`: the same rows and the same `created_by_visible` as the whole rule."""

from federation.models import RoleName
from federation.selectors import role_grants_visible_to
from tests.factories import UserFactory, grant


def _rows(viewer, project, **kwargs):
    grants = role_grants_visible_to(viewer, scope=project, **kwargs)
    return sorted((g.user.username, g.role.name, g.created_by_visible) for g in grants)


def test_a_seen_project_answers_as_the_whole_rule(project, owner, manager, member, outsider, staff):
    stranger = UserFactory(username="stranger")  # holds no role anywhere: nobody but staff sees them
    grant(UserFactory(username="by-owner"), project, RoleName.PROJECT_MEMBER, created_by=owner)
    grant(UserFactory(username="by-manager"), project, RoleName.PROJECT_MEMBER, created_by=manager)
    grant(UserFactory(username="by-stranger"), project, RoleName.PROJECT_MEMBER, created_by=stranger)
    grant(UserFactory(username="by-outsider"), project, RoleName.PROJECT_MEMBER, created_by=outsider)
    for viewer in (owner, manager, member):
        whole = _rows(viewer, project)
        assert _rows(viewer, project, scope_seen=True) == whole
        assert len(whole) == 6
    # The owner sees who it granted; a member sees the manager's grants, not the owner's or a stranger's.
    by_member = {name: visible for name, _, visible in _rows(member, project, scope_seen=True)}
    assert by_member["by-manager"] is True
    assert by_member["by-owner"] is False
    assert by_member["by-stranger"] is False
    assert by_member["member"] is False  # made by nobody (a fixture's grant)
    assert {name: visible for name, _, visible in _rows(owner, project, scope_seen=True)}["by-owner"] is True
