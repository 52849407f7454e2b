from django.db.models import QuerySet

from .models import Event


def event_list(*, user) -> QuerySet[Event]:
    return Event.objects.visible_to(user)
