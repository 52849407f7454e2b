"""Every write of the marketplace. Views, admin actions, tasks and the provider app call these."""

from ._state import StateWriteBatch
from .catalogue import (
    offering_change_state,
    offering_components_upsert,
    offering_create,
    offering_update,
    plan_archive,
    plan_create,
    plan_update,
)
from .ending import resources_announce_ending
from .outcomes import OUTCOMES
from .pausing import resource_pause, resource_resume
from .placing import (
    order_create,
    order_place,
    projects_terminate_expired,
    resource_terminate,
    resource_update_limits,
)
from .provider_reports import resource_check_provider, resource_set_backend_id, resource_set_limits
from .state_machine import (
    order_approve_by_consumer,
    order_approve_by_provider,
    order_cancel,
    order_reject_by_consumer,
    order_reject_by_provider,
    order_set_state_done,
    order_set_state_erred,
    order_set_state_executing,
)

__all__ = [
    "OUTCOMES",
    "StateWriteBatch",
    "offering_change_state",
    "offering_components_upsert",
    "offering_create",
    "offering_update",
    "order_approve_by_consumer",
    "order_approve_by_provider",
    "order_cancel",
    "order_create",
    "order_place",
    "order_reject_by_consumer",
    "order_reject_by_provider",
    "order_set_state_done",
    "order_set_state_erred",
    "order_set_state_executing",
    "plan_archive",
    "plan_create",
    "plan_update",
    "projects_terminate_expired",
    "resource_pause",
    "resource_resume",
    "resource_check_provider",
    "resource_set_backend_id",
    "resource_set_limits",
    "resource_terminate",
    "resource_update_limits",
    "resources_announce_ending",
]
