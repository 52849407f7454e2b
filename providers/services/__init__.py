"""Every write of the providers app. Views, tasks, admin actions, commands and other apps call these.

- `registration`: providers, their keys and offering links; user connection requests.
- `inbound`: what providers send us (order updates, usage, confirmed connections).
- `outbox`: the one writer of outbox rows (orders, membership changes and pauses for providers).
- `relay`: delivering the outbox to providers.
- `sync`: what beat pulls from providers (manifests, usage, verify, stuck orders).
- `health`: a provider's successes and failures.
- `signing`: the orchestrator's keys, signing our calls and checking providers' tokens.
"""

from .health import provider_record_failure, provider_record_success
from .inbound import (
    connection_confirm,
    order_updates_apply,
    order_updates_receive,
    usage_batch_import,
    usage_records_import,
)
from .outbox import (
    membership_listener,
    outbox_add_membership,
    outbox_add_order,
    outbox_add_pause,
    wake_key,
    wake_relay,
)
from .registration import connection_request, offering_link_provider, provider_register, provider_update_keys
from .relay import outbox_deliver, outbox_requeue_order, retry_delay
from .signing import (
    authenticate_provider,
    current_signing_key,
    published_jwks,
    request_headers,
    seen_tokens_purge,
    signing_key_create,
    signing_key_retire,
)
from .sync import manifest_pull, orders_sweep_stuck, provider_verify, usage_pull

__all__ = [
    "authenticate_provider",
    "connection_confirm",
    "connection_request",
    "current_signing_key",
    "manifest_pull",
    "membership_listener",
    "offering_link_provider",
    "order_updates_apply",
    "order_updates_receive",
    "orders_sweep_stuck",
    "outbox_add_membership",
    "outbox_add_order",
    "outbox_add_pause",
    "outbox_deliver",
    "outbox_requeue_order",
    "provider_record_failure",
    "provider_record_success",
    "provider_register",
    "provider_update_keys",
    "provider_verify",
    "published_jwks",
    "request_headers",
    "retry_delay",
    "seen_tokens_purge",
    "signing_key_create",
    "signing_key_retire",
    "usage_batch_import",
    "usage_pull",
    "usage_records_import",
    "wake_key",
    "wake_relay",
]
