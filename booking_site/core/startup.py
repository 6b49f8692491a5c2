"""What a serving process does once the site is loaded, before its first request."""

import gc
from importlib import import_module

from django.conf import settings


def ready_to_serve() -> None:
    """Load every view (and the GP Connect client behind them) now, then move everything made
    so far out of the garbage collector's sight (``gc.freeze``).

    Modules, models, settings and the FHIR validators live as long as the process, yet a full
    collection would walk all of them again, tens of milliseconds each time, in the middle of
    whichever search triggered it (docs/adr/0007-decoding-slot-replies-into-typed-fields.md).
    Frozen objects are still freed by reference counting; only cycles among them would stay.
    """
    import_module(settings.ROOT_URLCONF)
    gc.freeze()
