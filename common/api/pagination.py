from django.core.paginator import InvalidPage
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .serializers import PageQuerySet


class LinkHeaderPagination(PageNumberPagination):
    """Waldur-style pages: the body is a JSON array; X-Result-Count and Link carry the rest."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        """As DRF's, except that for a view with `rows_from_values = True` the page is handed over unread,
        for the serializer to read as values."""
        if not getattr(view, "rows_from_values", False):
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            raise NotFound(self.invalid_page_message.format(page_number=page_number, message=str(exc))) from exc
        return PageQuerySet(self.page.object_list)

    def get_paginated_response(self, data):
        return Response(data, headers=self.page_headers())

    def page_headers(self) -> dict:
        page = self.page
        url = self.request.build_absolute_uri()
        links = {"first": remove_query_param(url, self.page_query_param)}
        if page.has_previous():
            links["prev"] = (
                remove_query_param(url, self.page_query_param)
                if page.previous_page_number() == 1
                else replace_query_param(url, self.page_query_param, page.previous_page_number())
            )
        if page.has_next():
            links["next"] = replace_query_param(url, self.page_query_param, page.next_page_number())
        last = page.paginator.num_pages
        links["last"] = (
            remove_query_param(url, self.page_query_param)
            if last <= 1
            else replace_query_param(url, self.page_query_param, last)
        )
        return {
            "X-Result-Count": str(page.paginator.count),
            "Link": ", ".join(f'<{href}>; rel="{rel}"' for rel, href in links.items()),
        }

    def get_paginated_response_schema(self, schema):
        # The body of a page is the plain array the schema generator already built for a list.
        return schema
