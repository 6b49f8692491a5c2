"""The Jinja2 environment for site pages, with the NHS.UK frontend component macros."""

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, PackageLoader

from booking_site.core.nhsuk_forms import JINJA_GLOBALS


def environment(**options) -> Environment:
    # The component macros come from the nhsuk-frontend-jinja package; our templates win on a
    # name clash. ChainableUndefined is what those macros expect for missing nested params.
    options["loader"] = ChoiceLoader([options["loader"], PackageLoader("nhsuk_frontend_jinja")])
    options["undefined"] = ChainableUndefined
    options.setdefault("trim_blocks", True)
    options.setdefault("lstrip_blocks", True)
    env = Environment(**options)  # noqa: S701 - Django's backend turns autoescape on
    env.globals.update({"static": static, "url": _url, "service_name": "Book a GP appointment"})
    env.globals.update(JINJA_GLOBALS)
    env.globals["session_idle_seconds"] = settings.SESSION_IDLE_SECONDS
    return env


def _url(name: str, *args, **kwargs) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)
