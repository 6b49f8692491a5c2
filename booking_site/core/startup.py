"""What a serving process does once the site is loaded, before its first request."""

import gc
from importlib import import_module

from django.conf import settings

# Net new containers (objects the collector tracks) between two young collections: CPython's
# default is 700. A slot search reply alone makes about 1,000 (each FreeSlot and its __dict__),
# so with the default a federated search ran some 20 collections, each walking the slots just
# made, and now and then a full one, in the middle of the replies still to be read
# (docs/adr/0009-cache-writes-after-the-search-fewer-collections.md).
YOUNG_COLLECTION_THRESHOLD = 50_000


def ready_to_serve() -> None:
    """Load every view (and the GP Connect client behind them) now, then move everything made
    so far out of the garbage collector's sight (``gc.freeze``), and collect young objects
    less often (``YOUNG_COLLECTION_THRESHOLD``).

    Modules, models, settings and the FHIR validators live as long as the process, yet a full
    collection would walk all of them again, tens of milliseconds each time, in the middle of
    whichever search triggered it (docs/adr/0007-decoding-slot-replies-into-typed-fields.md).
    Frozen objects are still freed by reference counting; only cycles among them would stay.
    Reference counting frees everything else that is not in a cycle at once, whatever the
    threshold: only cyclic garbage waits longer for a collection.
    """
    import_module(settings.ROOT_URLCONF)
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, older, oldest)
