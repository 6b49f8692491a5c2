"""Middleware of the whole site."""

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class NoStoreForSignedIn:
    """``Cache-Control: no-store, private`` on every response to a signed-in person, so that
    their appointments and details never stay in a shared computer's browser cache or a proxy.

    A response that already says how it may be cached keeps its own header. Server errors get
    ``no-store`` without asking who is signed in: the database may be what failed.
    Sync and async capable, so async views are not pushed into a thread to pass through it.
    """

    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]
    ) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self.__acall__(request)
        response = self.get_response(request)
        if _leaves_caching_open(response) and (
            response.status_code >= 500 or request.user.is_authenticated
        ):
            _no_store(response)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        response = await self.get_response(request)
        if _leaves_caching_open(response) and (
            response.status_code >= 500 or (await request.auser()).is_authenticated
        ):
            _no_store(response)
        return response


def _leaves_caching_open(response: HttpResponse) -> bool:
    return not response.has_header("Cache-Control")


def _no_store(response: HttpResponse) -> None:
    patch_cache_control(response, no_store=True, private=True)
