"""Rendering a page from an async view."""

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render as render_sync


async def render(
    request: HttpRequest, template_name: str, context: dict | None = None, status: int = 200
) -> HttpResponse:
    """``django.shortcuts.render`` for async views, run in a worker thread.

    The layout asks the database about the signed-in user (``has_perm`` for the staff link), and
    a template may touch other lazy objects: off the event loop that is allowed, as it is in a
    sync view.
    """
    return await sync_to_async(render_sync)(request, template_name, context, status=status)
