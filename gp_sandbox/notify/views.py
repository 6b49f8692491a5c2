"""The stand-in's mail-catcher page, /sandbox/notify/: every message it accepted, newest
first, with the switch that makes its API fail and a button to forget every message."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from gp_sandbox.notify.models import NotifyBehaviour, NotifyMessage
from gp_sandbox.notify.presenters import present

SHOWN = 200  # the newest messages shown; a filter finds older ones


class BehaviourForm(forms.Form):
    fail_with = forms.ChoiceField(
        choices=NotifyBehaviour.Failure.choices,
        required=False,
        error_messages={"invalid_choice": "Choose how the Notify stand-in answers"},
    )


@require_GET
def messages(request: HttpRequest) -> HttpResponse:
    return _page(request, BehaviourForm(initial={"fail_with": NotifyBehaviour.current().fail_with}))


@require_POST
def behaviour(request: HttpRequest) -> HttpResponse:
    form = BehaviourForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    NotifyBehaviour.set(form.cleaned_data["fail_with"])
    return redirect("sandbox:notify_messages")


@require_POST
def delete_all(request: HttpRequest) -> HttpResponse:
    NotifyMessage.objects.all().delete()
    return redirect("sandbox:notify_messages")


def _page(request: HttpRequest, form: BehaviourForm, status: int = 200) -> HttpResponse:
    to = request.GET.get("to", "").strip()
    found = NotifyMessage.objects.all()
    if to:
        found = found.filter(recipient__icontains=to)
    total = found.count()
    chosen = form["fail_with"].value() or ""
    error = form.errors["fail_with"][0] if "fail_with" in form.errors else None
    return render(
        request,
        "sandbox/notify_messages.jinja",
        {
            "messages": [present(message) for message in found[:SHOWN]],
            "total": total,
            "shown": min(total, SHOWN),
            "to": to,
            "behaviour_items": [
                {"value": value, "text": label, "checked": value == chosen}
                for value, label in NotifyBehaviour.Failure.choices
            ],
            "error": error,
        },
        status=status,
    )
