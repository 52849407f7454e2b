"""The portal's filter sets: the marketplace's, with reads in the form faster for a page of them.

`OrderListFilter` is `marketplace.filters.OrderFilter` with the same rows for every filter; only its text
search (`query`) is asked differently. The marketplace's filter gives the orders whose resource, offering
or project name contains the text as `id IN (a UNION of three trigram-indexed lookups)`; PostgreSQL
estimates that union at a tenth of all orders (an offering's name may match every order of the offering)
and reads every order to join it, for the count and again for the page (100,000 orders: 35 ms a query,
where the matches are a hundred). Here the matching ids are read first, on their own, and the orders
fetched by id (`common.sql.AmongIds`): the same rows, from the indexes (7-10 ms).
"""

from common.sql import AmongIds
from marketplace.filters import OrderFilter


class OrderListFilter(OrderFilter):
    def filter_query(self, queryset, name, value):
        return queryset.filter(AmongIds(self.matching_ids(value)))
