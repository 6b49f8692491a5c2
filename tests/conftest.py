import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (Redis is shared between runs when REDIS_URL is set)."""
    cache.clear()
    yield
    cache.clear()
