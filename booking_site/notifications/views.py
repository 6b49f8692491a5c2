"""The patient's choice of messages, and ending an earlier-appointment alert from the link in
its message."""

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from booking_site.accounts.decorators import patient_required
from booking_site.core.rendering import render
from booking_site.notifications import contact
from booking_site.notifications.alerts import STOP_SALT, end
from booking_site.notifications.forms import ContactForm
from booking_site.notifications.models import Alert


@patient_required
@require_http_methods(["GET", "POST"])
async def contact_preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ContactForm(request.POST if request.method == "POST" else None, user=user)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    # Back to a page of this site only (a path: anything else is never taken for one).
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}
    ):
        next_url = ""
    if request.method == "POST" and form.is_valid():
        user.contact_by = form.cleaned_data["contact_by"]
        await user.asave(update_fields=["contact_by"])
        if next_url:
            return HttpResponseRedirect(next_url)
        return redirect("notifications:contact_saved")
    return await render(
        request,
        "notifications/contact.jinja",
        {"form": form, "next": next_url, "current": contact.describe(user)},
    )


@patient_required
async def contact_saved(request: HttpRequest) -> HttpResponse:
    return await render(
        request, "notifications/contact_saved.jinja", {"current": contact.describe(request.user)}
    )


@require_http_methods(["GET", "POST"])
async def stop_alert(request: HttpRequest, token: str) -> HttpResponse:
    """The "stop these messages" link: works without signing in (the link is the proof, signed
    for one alert), asks before it ends anything (mail scanners follow links)."""
    try:
        alert_id = signing.loads(token, salt=STOP_SALT)
    except signing.BadSignature:
        raise Http404("Not a link we sent") from None
    alert = await Alert.objects.filter(pk=alert_id).afirst()
    if alert is None:
        raise Http404("No such alert")
    if request.method == "POST" and alert.is_active:
        await end(alert, Alert.Status.ENDED)
        return redirect("notifications:stop_alert", token=token)
    return await render(
        request,
        "notifications/stop_alert.jinja",
        {"alert": alert, "today": timezone.localdate()},
    )
