"""Settings for the test suite: the normal settings with DJANGO_ENV defaulting to ``test``."""

import os

os.environ.setdefault("DJANGO_ENV", "test")

from booking_site.settings import *  # noqa: F403
