"""API rate limits: a low one for anonymous clients and for wrong tokens, a high one per user.

DRF authenticates before it throttles, so a wrong token is answered 401 before any throttle
runs: ThrottledTokenAuthentication counts failed token attempts per client address itself
and, once they pass the ``token_failures`` rate, answers 429 without looking at the token (a
right guess then gets 429 too). The rates are read on every request, so tests can change them
with ``settings``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from web.api.tokens import CachedTokenAuthentication


class SettingsRateMixin:
    scope: str | None

    def get_rate(self) -> str | None:
        # DRF copies the rates once at import; reading them here honours settings overrides.
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        return rates.get(self.scope) if self.scope else None


class AnonThrottle(SettingsRateMixin, AnonRateThrottle):
    pass


class UserThrottle(SettingsRateMixin, UserRateThrottle):
    pass


class TokenFailureThrottle(SettingsRateMixin, SimpleRateThrottle):
    """Failed token attempts per client address, checked and counted apart."""

    scope = "token_failures"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def exceeded(self, request: Request) -> bool:
        allowed, duration = self.parse_rate(self.rate)
        if allowed is None or duration is None:
            return False
        self.key = self.get_cache_key(request, None)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - duration:
            self.history.pop()
        return len(self.history) >= allowed

    def record_failure(self, request: Request) -> None:
        if self.rate is not None and not self.exceeded(request):
            self.throttle_success()  # stores this attempt in the history


class ThrottledTokenAuthentication(CachedTokenAuthentication):
    def authenticate(self, request: Request) -> Any:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        throttle = TokenFailureThrottle()
        if throttle.exceeded(request):
            raise Throttled(wait=throttle.wait())
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            throttle.record_failure(request)
            raise
