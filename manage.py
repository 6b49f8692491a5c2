#!/usr/bin/env python
"""Django's command-line utility. Running it directly means a developer's machine: DJANGO_ENV
defaults to ``local`` here (the settings themselves default to ``production``)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booking_site.settings")
    os.environ.setdefault("DJANGO_ENV", "local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
