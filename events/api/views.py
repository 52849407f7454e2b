from rest_framework import mixins

from common.api.viewsets import BaseViewSet
from events import selectors
from events.filters import EventFilter

from .serializers import EventSerializer


class EventViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    """What happened, newest first: visible to whoever may see the object each event is scoped to."""

    serializer_class = EventSerializer
    filterset_class = EventFilter

    def get_queryset(self):
        return selectors.event_list(user=self.request.user)
