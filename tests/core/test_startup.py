"""A serving process loads the whole site, then keeps it out of the garbage collector's way."""

import gc
import sys

import pytest

from booking_site.core.startup import YOUNG_COLLECTION_THRESHOLD, ready_to_serve


@pytest.fixture
def unfrozen():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_ready_to_serve_loads_the_views_then_freezes_what_start_up_made(
    settings, monkeypatch, unfrozen
):
    settings.ROOT_URLCONF = "tests.core.urls_for_startup"
    monkeypatch.delitem(sys.modules, "tests.core.urls_for_startup", raising=False)
    gc.unfreeze()

    ready_to_serve()

    urls = sys.modules["tests.core.urls_for_startup"]
    assert gc.get_freeze_count() > 0
    # Frozen objects are no longer among those the collector walks.
    assert all(tracked is not urls.urlpatterns for tracked in gc.get_objects())


def test_ready_to_serve_collects_young_objects_less_often(settings, unfrozen):
    settings.ROOT_URLCONF = "tests.core.urls_for_startup"
    gc.set_threshold(700, 10, 10)

    ready_to_serve()

    assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, 10, 10)
    assert YOUNG_COLLECTION_THRESHOLD > 700
