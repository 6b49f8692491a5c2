"""The staff availability preview: the page, one practice's section (htmx loads one per
practice when JavaScript runs) and the CSV export. All GET: a preview is a bookmarkable query.

Every view refuses anyone who is not practice staff, and any practice or federation outside the
user's own, before it looks at the question (``services`` checks again before it searches).
"""

import datetime
from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect

from booking_site import gpconnect
from booking_site.availability import export, presenters, services
from booking_site.availability.forms import MAX_WEEKS_AHEAD, PreviewForm, requested_scope
from booking_site.availability.models import StaffSearch
from booking_site.common import practice_search
from booking_site.common.results import results_context
from booking_site.core.rendering import render as arender

# Set by static/js/journey.js when the browser runs JavaScript: practices then load one by one.
JS_PARAM = "js"
# A progressive page's recorded search, carried in its fragment URLs.
SEARCH_PARAM = "search"


def staff_required(
    view: Callable[..., Awaitable[HttpResponse]],
) -> Callable[..., Awaitable[HttpResponse]]:
    """Practice staff only: anonymous people are sent to sign in; everyone else without the
    preview permission and a linked practice (patients included) is refused with 403. Any
    practice or federation in the query that is not the user's is refused with 403 too."""

    @wraps(view)
    async def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        request.user = await request.auser()
        if not request.user.is_authenticated:
            if request.htmx:
                return HttpResponseClientRedirect(_sign_in_url(request))
            return redirect_to_login(request.get_full_path())
        await sync_to_async(_require_scope)(request)
        return await view(request, *args, **kwargs)

    return wrapper


def _require_scope(request: HttpRequest) -> None:
    services.require_staff(request.user)
    codes, federation_ids = requested_scope(request.GET)
    services.require_practices(request.user, codes)
    services.require_federations(request.user, federation_ids)


def _sign_in_url(request: HttpRequest) -> str:
    """Sign in, then back to the page the fragment was on (htmx says which)."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    page = current.path or reverse("availability:preview")
    if current.query:
        page += "?" + current.query
    return redirect_to_login(page)["Location"]


def _checked_form(request: HttpRequest, *, bound: bool) -> PreviewForm:
    """The preview's question, validated (its choices come from the database, so this runs in
    a worker thread: ``await sync_to_async(_checked_form)(...)``)."""
    federations = services.require_staff(request.user)
    form = PreviewForm(
        request.GET if bound else None,
        federations=federations,
        practices=services.visible_practices(request.user),
        today=timezone.localdate(),
    )
    form.is_valid()
    return form


def _page_query(request: HttpRequest) -> str:
    return presenters.query_without(request.GET, JS_PARAM, SEARCH_PARAM)


@staff_required
@require_GET
async def preview(request: HttpRequest) -> HttpResponse:
    form = await sync_to_async(_checked_form)(request, bound=bool(request.GET))
    context: dict = {"form": form}
    if form.is_bound and form.is_valid():
        practices = await sync_to_async(services.require_practices)(
            request.user, form.chosen_ods_codes()
        )
        dates = form.date_range()
        query = _page_query(request)
        if request.GET.get(JS_PARAM) == "1":
            # With JavaScript each practice's section arrives on its own, the fastest first.
            search = await sync_to_async(services.start_search)(
                request.user, practices, dates, kind=StaffSearch.Kind.PROGRESSIVE
            )
            sections = [presenters.PracticeView.checking(practice) for practice in practices]
        else:
            search, previews = await services.preview(
                request.user, practices, dates, kind=StaffSearch.Kind.PREVIEW
            )
            sections = [presenters.PracticeView.of(item, dates) for item in previews]
        context.update(
            practices=practices,
            dates=dates,
            sections=sections,
            summary=presenters.summary_line(practices, dates),
            query=query,
            fragment_query=f"{query}&{SEARCH_PARAM}={search.reference}",
            patient_view=presenters.patient_view_link(practices, dates),
            columns=export.COLUMNS,
        )
    return await arender(request, "availability/preview.jinja", context)


@staff_required
@require_GET
async def practice(request: HttpRequest, ods: str) -> HttpResponse:
    """One practice's section of the preview. Without htmx, the whole preview page instead."""
    [chosen] = await sync_to_async(services.require_practices)(request.user, [ods])
    form = await sync_to_async(_checked_form)(request, bound=True)
    if not form.is_valid():
        if request.htmx:
            return HttpResponse("This preview's question is not valid", status=400)
        return redirect(f"{reverse('availability:preview')}?{_page_query(request)}")
    if ods not in form.chosen_ods_codes():
        raise Http404("Not one of the practices in this preview")
    if not request.htmx:
        return redirect(f"{reverse('availability:preview')}?{_page_query(request)}")
    dates = form.date_range()
    search = await sync_to_async(services.search_for)(request.user, request.GET.get(SEARCH_PARAM))
    if search is not None and (
        ods not in search.practices or (search.start, search.end) != (dates.start, dates.end)
    ):
        search = None
    _, [result] = await services.preview(
        request.user, [chosen], dates, kind=StaffSearch.Kind.PRACTICE, search=search
    )
    return await arender(
        request,
        "availability/_practice.jinja",
        {"section": presenters.PracticeView.of(result, dates), "announce": True},
    )


@staff_required
@require_GET
async def patient_view(request: HttpRequest) -> HttpResponse:
    """What patients see: the patients' results page for these practices and dates, without
    anything to choose."""
    try:
        start = datetime.date.fromisoformat(request.GET.get("start", ""))
        end = datetime.date.fromisoformat(request.GET.get("end", ""))
        dates = gpconnect.DateRange(start, end)
    except ValueError:
        raise Http404("Not a date range") from None
    today = timezone.localdate()
    if start < today or end > today + datetime.timedelta(weeks=MAX_WEEKS_AHEAD):
        raise Http404("Previews cover the weeks patients can book, from today")
    practices = await sync_to_async(services.require_practices)(
        request.user, request.GET.getlist("practices")
    )
    if not practices:
        raise Http404("No practices chosen")
    results = await practice_search.search(
        request.user,
        practices,
        dates,
        correlation_id=practice_search.new_correlation_id(),
        retry=practice_search.retried(request.GET, practices),
    )
    page_path = reverse("availability:patient_view")
    question = presenters.query_without(request.GET, "retry", "page")
    context = results_context(
        request.GET,
        practices,
        dates,
        results,
        page_path=page_path,
        status_links=lambda p: ("", f"{page_path}?{question}&retry={p.ods_code}"),
    )
    context["progressive"] = False
    return await arender(request, "availability/patient_view.jinja", context)


@staff_required
@require_GET
async def export_csv(request: HttpRequest) -> HttpResponse:
    """The free slots of the preview in the query, as a CSV download (columns in ``export``)."""
    form = await sync_to_async(_checked_form)(request, bound=True)
    if not form.is_valid():
        return redirect(f"{reverse('availability:preview')}?{_page_query(request)}")
    practices = await sync_to_async(services.require_practices)(
        request.user, form.chosen_ods_codes()
    )
    dates = form.date_range()
    _, previews = await services.preview(
        request.user, practices, dates, kind=StaffSearch.Kind.EXPORT
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename(dates)}"'
    # A byte order mark, so that spreadsheet programs read the file as UTF-8.
    response.write("\ufeff")
    export.write(previews, response)
    return response
