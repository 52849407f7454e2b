"""`/api/shares/`: customer shares and the project shares cut from them, with what each has given out,
used and left.

A page costs a fixed number of queries whatever its size: the count, the page (with the offering's
unit annotated), and the three queries of its trees (`accounting.shares.selectors.share_trees`).
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from accounting.shares import selectors, services
from accounting.shares.filters import ShareFilter
from accounting.shares.models import Share
from common.api.fields import RelatedUrlField, UrlField
from common.api.serializers import ReadListSerializer
from common.api.viewsets import BaseViewSet
from common.exceptions import ValidationFailed
from federation.models import Customer, Project
from marketplace.models import Offering

from .summaries import PlainDecimalField

AMOUNT = dict(max_digits=28, decimal_places=10, min_value=0)


class ShareChildSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    url = UrlField("share-detail")
    project_uuid = serializers.UUIDField(source="project.uuid")
    project_name = serializers.CharField(source="project.name")
    amount = PlainDecimalField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    allocated = PlainDecimalField(source="figures.allocated")
    used = PlainDecimalField(source="figures.used")
    remaining = PlainDecimalField(source="figures.remaining")


class ShareSerializer(serializers.ModelSerializer):
    url = UrlField("share-detail")
    offering = UrlField("marketplace-offering-detail", source="offering.uuid")
    offering_uuid = serializers.UUIDField(source="offering.uuid")
    offering_name = serializers.CharField(source="offering.name")
    measured_unit = serializers.CharField(default="", allow_null=True)
    customer_uuid = serializers.UUIDField(source="customer.uuid")
    customer_name = serializers.CharField(source="customer.name")
    project_uuid = serializers.UUIDField(source="project.uuid", default=None, allow_null=True)
    project_name = serializers.CharField(source="project.name", default=None, allow_null=True)
    parent_uuid = serializers.UUIDField(source="parent.uuid", default=None, allow_null=True)
    amount = PlainDecimalField()
    allocated = PlainDecimalField(
        source="figures.allocated",
        help_text="A customer share: its project shares plus the limits of projects without one; "
        "a project share: the limits of the project's resources.",
    )
    used = PlainDecimalField(source="figures.used", help_text="Usage reported within the share's dates.")
    remaining = PlainDecimalField(source="figures.remaining", help_text="What a new or raised limit may take today.")
    children = ShareChildSerializer(many=True, source="children_list", help_text="Project shares (customer shares).")

    class Meta:
        list_serializer_class = ReadListSerializer
        model = Share
        fields = ("uuid", "url", "offering", "offering_uuid", "offering_name", "component_type", "measured_unit",
                  "customer_uuid", "customer_name", "project_uuid", "project_name", "parent_uuid", "amount",
                  "start_date", "end_date", "allocated", "used", "remaining", "children", "created",
                  "modified")  # fmt: skip
        read_only_fields = fields


class ShareCreateSerializer(serializers.Serializer):
    """A customer share (`customer`, `offering`, `component_type`, dates; staff) or a project share
    (`parent`, `project`; the customer's owners); `amount` for both."""

    parent = RelatedUrlField("share-detail", queryset=lambda request: Share.objects.visible_to(request.user),
                             required=False, allow_null=True)  # fmt: skip
    project = RelatedUrlField("project-detail", queryset=lambda request: Project.objects.visible_to(request.user),
                              required=False, allow_null=True)  # fmt: skip
    customer = RelatedUrlField("customer-detail", queryset=lambda request: Customer.objects.visible_to(request.user),
                               required=False, allow_null=True)  # fmt: skip
    offering = RelatedUrlField("marketplace-offering-detail",
                               queryset=lambda request: Offering.objects.visible_to(request.user),
                               required=False, allow_null=True)  # fmt: skip
    component_type = serializers.CharField(max_length=50, required=False)
    amount = serializers.DecimalField(**AMOUNT)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)


class ShareUpdateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**AMOUNT, required=False)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)


def _payload(serializer_class, request, **kwargs):
    payload = serializer_class(data=request.data, context={"request": request}, **kwargs)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


def _required(data: dict, names: tuple[str, ...], what: str) -> None:
    for name in names:
        if data.get(name) is None:
            raise ValidationFailed(f"{what} needs this.", field=name)


def _attach(shares: list[Share]) -> None:
    """Put each share's figures and children on it, for the serializer (three queries per page)."""
    details = selectors.share_details(shares, today=timezone.localdate())
    for share in shares:
        share.figures = details.figures[share.id]
        share.children_list = details.children.get(share.id, []) if share.parent_id is None else []
        for child in share.children_list:
            child.figures = details.figures[child.id]


class ShareViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    """Shares of offering components: staff grant customers theirs, the customers' owners divide them among
    projects. Limits ordered in the offering draw from them (see docs/shares.md)."""

    serializer_class = ShareSerializer
    filterset_class = ShareFilter

    def get_queryset(self):
        return selectors.share_list(user=self.request.user)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        if request.method == "HEAD":
            return Response(headers={"X-Result-Count": str(queryset.count())})
        page = list(self.paginate_queryset(queryset))
        _attach(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        share = self.get_object()
        _attach([share])
        return Response(self.get_serializer(share).data)

    def _respond(self, share, code=status.HTTP_200_OK):
        share = self.get_queryset().get(pk=share.pk)
        _attach([share])
        return Response(self.get_serializer(share).data, status=code)

    @extend_schema(request=ShareCreateSerializer, responses={201: ShareSerializer})
    def create(self, request):
        data = _payload(ShareCreateSerializer, request)
        if data.get("parent") is not None:
            _required(data, ("project",), "A project share")
            share = services.share_divide(
                actor=request.user, parent=data["parent"], project=data["project"], amount=data["amount"],
                start_date=data.get("start_date"), end_date=data.get("end_date"),
            )  # fmt: skip
        else:
            _required(data, ("customer", "offering", "component_type", "start_date", "end_date"), "A customer share")
            share = services.share_grant(
                actor=request.user, customer=data["customer"], offering=data["offering"],
                component_type=data["component_type"], amount=data["amount"], start_date=data["start_date"],
                end_date=data["end_date"],
            )  # fmt: skip
        return self._respond(share, status.HTTP_201_CREATED)

    @extend_schema(request=ShareUpdateSerializer, responses={200: ShareSerializer})
    def partial_update(self, request, uuid=None):
        data = _payload(ShareUpdateSerializer, request, partial=True)
        return self._respond(services.share_update(actor=request.user, share=self.get_object(), **data))


def register(router):
    router.register("shares", ShareViewSet, basename="share")
