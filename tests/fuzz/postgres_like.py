"""SQLite stores a NUL byte in a string; PostgreSQL refuses the whole query with DataError. The
test suite runs on SQLite, so this makes any query carrying a NUL fail as it would there."""

import contextlib
from collections.abc import Iterator
from unittest import mock

from django.db import DataError
from django.db.backends.utils import CursorWrapper

_execute = CursorWrapper.execute
_executemany = CursorWrapper.executemany


def _has_nul(params: object) -> bool:
    if isinstance(params, str | bytes):
        return "\x00" in params if isinstance(params, str) else b"\x00" in params
    if isinstance(params, dict):
        return any(_has_nul(value) for value in params.values())
    if isinstance(params, list | tuple):
        return any(_has_nul(value) for value in params)
    return False


def _refusing_execute(self, sql, params=None):
    if _has_nul(params):
        raise DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    return _execute(self, sql, params)


def _refusing_executemany(self, sql, param_list):
    if _has_nul(list(param_list)):
        raise DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    return _executemany(self, sql, param_list)


@contextlib.contextmanager
def nul_refused() -> Iterator[None]:
    """Every query in every thread refuses a NUL byte in its parameters, as PostgreSQL does."""
    with (
        mock.patch.object(CursorWrapper, "execute", _refusing_execute),
        mock.patch.object(CursorWrapper, "executemany", _refusing_executemany),
    ):
        yield
