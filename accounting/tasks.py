"""Beat tasks of accounting: thin, each calls one service and is safe to run twice."""

from celery import shared_task

from common.wakeups import wake_done

from .invoicing import services as invoicing
from .policies import services as policies


@shared_task(name="accounting.recompute_invoices")
def recompute_invoices() -> int:
    """Woken after usage arrives, and every few minutes: recompute the pending invoices whose inputs changed."""
    wake_done(invoicing.RECOMPUTE_WAKE_KEY)
    return invoicing.invoices_recompute_due()


@shared_task(name="accounting.close_invoices")
def close_invoices() -> int:
    """Hourly: close last month's invoices (those already closed are left as they are)."""
    return invoicing.invoices_close_previous_month()


@shared_task(name="accounting.expire_policy_firings")
def expire_policy_firings() -> int:
    """Every few minutes: undo the firings of periods that have ended (blocks lift, paused resources resume)."""
    return policies.policy_firings_expire()
