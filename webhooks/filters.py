import django_filters

from .models import SCOPE_TYPES, Webhook, WebhookDelivery


class WebhookFilter(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter()
    scope_type = django_filters.ChoiceFilter(choices=SCOPE_TYPES)
    scope_uuid = django_filters.UUIDFilter()
    created_by_uuid = django_filters.UUIDFilter(field_name="created_by__uuid")

    class Meta:
        model = Webhook
        fields = []


class WebhookDeliveryFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(
        choices=WebhookDelivery.State.choices, help_text="Repeat to match any of several states."
    )
    event_type = django_filters.CharFilter()
    event_uuid = django_filters.UUIDFilter()

    class Meta:
        model = WebhookDelivery
        fields = []
