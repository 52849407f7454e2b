"""Thin tasks: publish agent messages the broker has not confirmed yet, prune sent ones (beat)."""

from celery import shared_task

from . import event_queues


@shared_task(name="waldur_provider.send_agent_messages", acks_late=True)
def send_agent_messages() -> int:
    return event_queues.messages_send()


@shared_task(name="waldur_provider.prune_agent_messages")
def prune_agent_messages() -> int:
    return event_queues.messages_prune()


@shared_task(name="waldur_provider.sweep_agent_tokens")
def sweep_agent_tokens() -> int:
    return event_queues.tokens_sweep()
