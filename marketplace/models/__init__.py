from .catalogue import (
    BillingType,
    LimitPeriod,
    Offering,
    OfferingComponent,
    OfferingState,
    Plan,
    PlanComponent,
    PlanUnit,
)
from .history import StateChange
from .orders import FINAL_ORDER_STATES, OPEN_ORDER_STATES, PENDING_ORDER_STATES, Order, OrderState, OrderType
from .resources import Resource, ResourceState

__all__ = [
    "FINAL_ORDER_STATES",
    "OPEN_ORDER_STATES",
    "PENDING_ORDER_STATES",
    "BillingType",
    "LimitPeriod",
    "Offering",
    "OfferingComponent",
    "OfferingState",
    "Order",
    "OrderState",
    "OrderType",
    "Plan",
    "PlanComponent",
    "PlanUnit",
    "Resource",
    "ResourceState",
    "StateChange",
]
