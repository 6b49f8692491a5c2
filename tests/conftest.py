import pytest
from django.core.cache import cache

from booking_site.core.keys import ensure_keys
from booking_site.gpconnect import caching
from booking_site.notifications import notify
from tests.notify_stand_in import InProcessNotify


def pytest_configure(config):
    """The NHS login keys (var/keys/, as `make run` makes them): the site's client key, its
    public JWKS registered with the sandbox's stand-in, and the stand-in's own signing key.
    Made before any test module is imported, as some mint ID tokens when they load."""
    ensure_keys()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (Redis is shared between runs when REDIS_URL is set),
    and the client keeps no slots of its own from an earlier test."""
    cache.clear()
    caching.forget_recent()
    yield
    cache.clear()
    caching.forget_recent()


@pytest.fixture(autouse=True)
def _notify_in_process():
    """Messages the worker sends reach the sandbox's Notify stand-in in this process, through
    Notify's real client (tests/notify_stand_in.py), as they reach it over HTTP under `make run`."""
    with notify.use_adapter(InProcessNotify()):
        yield
