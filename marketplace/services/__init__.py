"""Every write of the marketplace. Views, admin actions, tasks and the provider app call these."""

from ._state import batched_state_writes
from .catalogue import (
    offering_change_state,
    offering_components_upsert,
    offering_create,
    offering_update,
    plan_archive,
    plan_create,
    plan_update,
)
from .ordering import order_create, projects_terminate_expired, resource_terminate, resource_update_limits
from .orders import (
    order_approve_by_consumer,
    order_approve_by_provider,
    order_cancel,
    order_reject_by_consumer,
    order_reject_by_provider,
    order_set_state_done,
    order_set_state_erred,
    order_set_state_executing,
)
from .outcomes import OUTCOMES

__all__ = [
    "OUTCOMES",
    "batched_state_writes",
    "offering_change_state",
    "offering_components_upsert",
    "offering_create",
    "offering_update",
    "order_approve_by_consumer",
    "order_approve_by_provider",
    "order_cancel",
    "order_create",
    "order_reject_by_consumer",
    "order_reject_by_provider",
    "order_set_state_done",
    "order_set_state_erred",
    "order_set_state_executing",
    "plan_archive",
    "plan_create",
    "plan_update",
    "projects_terminate_expired",
    "resource_terminate",
    "resource_update_limits",
]
