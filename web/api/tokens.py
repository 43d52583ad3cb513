"""Token authentication that reads a token from the database once, then from the cache.

Without it every API request spent a query on its token, as much as on the list it asked
for. A token's account is kept in the cache for SEGREC_TOKEN_CACHE_SECONDS; deleting or
changing a token, or saving an account (deactivating it, say), in a process that shares the
cache (SEGREC_CACHE_URL) makes every process read tokens afresh at once, elsewhere within
that time. Cache keys hold a digest of the token, never the token.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

TOKENS_VERSION_KEY = "segrec:tokens-version"


def token_cache_key(key: str) -> str:
    return "segrec:token:" + hashlib.sha256(key.encode()).hexdigest()


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        cache_key = token_cache_key(key)
        found = cache.get_many([TOKENS_VERSION_KEY, cache_key])
        version = found.get(TOKENS_VERSION_KEY, 0)
        stored = found.get(cache_key)
        if stored is not None and stored[0] == version:
            return stored[1], stored[2]
        # Unknown tokens and inactive accounts are refused here and never cached.
        user, token = super().authenticate_credentials(key)
        ttl = float(getattr(settings, "SEGREC_TOKEN_CACHE_SECONDS", 30.0))
        cache.set(cache_key, (version, user, token), ttl)
        return user, token


@receiver(post_save, sender=Token, dispatch_uid="web.api.tokens.token_saved")
@receiver(post_delete, sender=Token, dispatch_uid="web.api.tokens.token_deleted")
@receiver(post_save, sender=get_user_model(), dispatch_uid="web.api.tokens.account_saved")
def forget_tokens(update_fields: Any = None, **_: Any) -> None:
    if update_fields is not None and set(update_fields) == {"last_login"}:
        return  # a sign-in changes nothing a token grants
    cache.set(TOKENS_VERSION_KEY, time.time_ns(), None)
