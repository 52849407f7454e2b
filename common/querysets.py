"""The one shape of a `visible_to(user)` queryset method, shared by every app's models.

Every model that people see through the API, the portal or a selector answers "what may this
user see?" in the same three steps: nobody signed in sees nothing, the global readers (staff and
support) see everything, and everyone else sees what the model's own rule lets through. The first
two steps live here once; each model's queryset writes only the third, `_visible_to_member`.
"""

from django.db import models


def reads_everything(user) -> bool:
    """Staff and global support read every row of every model (support changes nothing)."""
    return bool(user.is_authenticated and (user.is_staff or getattr(user, "is_support", False)))


class VisibleQuerySet(models.QuerySet):
    """A queryset with `visible_to(user)`: none for the anonymous, all for global readers, else the model's rule."""

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if reads_everything(user):
            return self
        return self._visible_to_member(user)

    def _visible_to_member(self, user):
        """The rows a signed-in user without global read access may see; each model's queryset says which."""
        raise NotImplementedError(f"{type(self).__name__} must say what a member sees")
