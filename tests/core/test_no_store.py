"""Signed-in pages are never stored by a browser or a proxy (Cache-Control: no-store)."""

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.http import HttpResponse
from django.test import AsyncClient, Client, RequestFactory

from booking_site.core.middleware import NoStoreForSignedIn
from tests.factories import make_patient

pytestmark = pytest.mark.django_db


def test_a_signed_in_page_says_no_store_and_private():
    client = Client()
    client.force_login(make_patient())

    response = client.get("/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"


def test_an_async_view_s_signed_in_page_says_no_store_too():
    client = Client()
    client.force_login(make_patient())

    # /book/times/ is an async view: without answers it sends the patient back a step.
    response = client.get("/book/times/")

    assert response["Cache-Control"] == "no-store, private"


def test_the_signed_in_page_says_no_store_through_the_asgi_handler():
    client = AsyncClient()
    client.force_login(make_patient())

    response = async_to_sync(client.get)("/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"


def test_an_anonymous_page_may_be_cached():
    response = Client().get("/")

    assert "no-store" not in response.get("Cache-Control", "")


def test_a_response_that_says_how_to_cache_it_keeps_its_own_header():
    patient = make_patient()

    def view(request):
        return HttpResponse(headers={"Cache-Control": "max-age=60"})

    request = RequestFactory().get("/")
    request.user = patient

    assert NoStoreForSignedIn(view)(request)["Cache-Control"] == "max-age=60"


def test_the_middleware_is_async_when_the_handler_is():
    async def view(request):
        return HttpResponse()

    middleware = NoStoreForSignedIn(view)

    assert iscoroutinefunction(middleware)
    assert NoStoreForSignedIn.sync_capable
    assert NoStoreForSignedIn.async_capable
