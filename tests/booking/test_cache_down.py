"""With the cache down (Redis stopped), searches go to the practices and the whole journey works:
nothing but the log notices."""

import pytest
from django.core.cache import caches

from .conftest import press_book, tomorrow_at
from .test_journey import book_first_slot, choose_links, search, signed_in


@pytest.fixture
def cache_down(settings):
    settings.CACHES = {"default": {"BACKEND": "tests.broken_cache.BrokenCache"}}
    yield
    caches.close_all()


def test_a_patient_searches_books_and_sees_the_appointment_with_the_cache_down(
    world, cache_down, caplog
):
    world.slots("A20047", tomorrow_at(9), 2)
    client = signed_in(world.patient)

    results = search(client)
    assert len(choose_links(results)) == 2

    check = book_first_slot(client, results)
    assert "Check your answers" in check
    booked = press_book(client, follow=True)

    assert booked.status_code == 200
    assert "Appointment booked" in booked.content.decode()
    appointments = client.get("/appointments/")
    assert appointments.status_code == 200
    assert "cache unavailable" in caplog.text
