"""Calls from the orchestrator to a provider, every one signed for that provider."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from django.conf import settings

from protocol.http import encode_body

from .models import Provider

TRANSIENT_4XX = {401, 403, 408, 409, 425, 429}


class ProviderCallFailed(Exception):
    """`permanent` failures (the provider rejected the request) are not retried."""

    def __init__(self, message: str, *, permanent: bool = False, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status = status


class ProviderClient:
    def __init__(self, provider: Provider, *, timeout: float | None = None, session: requests.Session | None = None):
        self.provider = provider
        self.timeout = timeout or settings.PROVIDER_TIMEOUT
        self.session = session or requests.Session()

    def _call(self, method: str, path: str, payload=None, params=None) -> dict:
        from .services.signing import request_headers  # the services use this client: import when called

        body = encode_body(payload) if payload is not None else b""
        url = self.provider.base_url.rstrip("/") + path
        try:
            response = self.session.request(
                method,
                url,
                data=body or None,
                params=params,
                headers=request_headers(self.provider, body, method=method, path=urlsplit(url).path),
                timeout=self.timeout,
            )
        except requests.Timeout:
            raise ProviderCallFailed(f"{self.provider.slug} did not answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise ProviderCallFailed(f"{self.provider.slug} is unreachable: {exc.__class__.__name__}") from None
        if response.status_code >= 500:
            raise ProviderCallFailed(
                f"{self.provider.slug} answered HTTP {response.status_code}: {_detail(response)}",
                status=response.status_code,
            )
        if response.status_code >= 400:
            # Authentication trouble (a key not yet fetched after a rotation) and throttling pass;
            # any other 4xx is the provider refusing this request for good.
            raise ProviderCallFailed(
                f"{self.provider.slug} rejected the request (HTTP {response.status_code}): {_detail(response)}",
                permanent=response.status_code not in TRANSIENT_4XX,
                status=response.status_code,
            )
        try:
            return response.json()
        except ValueError:
            raise ProviderCallFailed(f"{self.provider.slug} answered with something that is not JSON") from None

    def submit_orders(self, batch_id: str, items: list[dict]) -> dict:
        return self._call("POST", "/orders/batch", {"batch_id": batch_id, "items": items})

    def submit_memberships(self, changes: list[dict]) -> dict:
        return self._call("POST", "/memberships", {"changes": changes})

    def submit_pauses(self, changes: list[dict]) -> dict:
        return self._call("POST", "/resources/pause", {"changes": changes})

    def manifest(self) -> dict:
        return self._call("GET", "/manifest")

    def usage(self, after: int, limit: int = 500) -> dict:
        return self._call("GET", "/usage", params={"after": after, "limit": limit})

    def order_state(self, order_uuid: str) -> dict | None:
        try:
            return self._call("GET", f"/orders/{order_uuid}")
        except ProviderCallFailed as exc:
            if exc.status == 404:
                return None
            raise

    def verify(self, resources: list[dict]) -> dict:
        return self._call("POST", "/verify", {"resources": resources})

    def request_connection(self, payload: dict) -> dict:
        return self._call("POST", "/connections", payload)


def _detail(response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])[:300]
    return str(data)[:300]
