import asyncio

import httpx
import pytest
from asgiref import sync
from django.core.handlers.asgi import ASGIHandler


def _thread_hops_for_one_page(monkeypatch) -> int:
    hops = []
    for adapter in (sync.SyncToAsync, sync.AsyncToSync):
        real = adapter.__call__

        def counted(self, *args, _real=real, **kwargs):
            hops.append(type(self).__name__)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(adapter, "__call__", counted)

    application = ASGIHandler()  # its middleware chain, from the settings of the moment

    async def fetch():
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://testserver"
        ) as client:
            return await client.get("/")

    hops.clear()
    response = asyncio.run(fetch())
    assert response.status_code == 200
    return len(hops)


@pytest.mark.django_db(transaction=True)
def test_under_asgi_a_page_costs_a_few_thread_hops_not_two_per_middleware(monkeypatch, settings):
    with_sync_chain = _thread_hops_for_one_page(monkeypatch)
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("SyncChainMiddleware")]
    without = _thread_hops_for_one_page(monkeypatch)

    assert with_sync_chain <= 10
    assert without > 2 * with_sync_chain
