import pytest
from django.core.cache import cache

from booking_site.gpconnect import caching


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (Redis is shared between runs when REDIS_URL is set),
    and the client keeps no slots of its own from an earlier test."""
    cache.clear()
    caching.forget_recent()
    yield
    cache.clear()
    caching.forget_recent()
