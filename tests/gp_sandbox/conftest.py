import datetime
from unittest import mock

import pytest

from gp_sandbox import factories
from tests.gp_sandbox.sandbox_api import SandboxApi

# Monday 22 March 2027, 09:00 GMT: the clocks go forward on Sunday 28 March.
PINNED_NOW = datetime.datetime(2027, 3, 22, 9, 0, tzinfo=datetime.UTC)


class Clock:
    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def set(self, now: datetime.datetime) -> None:
        self.now = now


@pytest.fixture
def clock():
    """A pinned clock: the FHIR API tests ask for it with ``pytestmark``, so that other tests in
    this folder keep the real one."""
    pinned = Clock(PINNED_NOW)
    with mock.patch("django.utils.timezone.now", side_effect=lambda: pinned.now):
        yield pinned


@pytest.fixture
def practice(db):
    return factories.make_practice("A20047")


@pytest.fixture
def patient(practice):
    return factories.make_patient(practice)


@pytest.fixture
def api(client, practice, patient):
    """The signed-in patient's view of the practice."""
    return SandboxApi(client, practice.ods_code, patient.nhs_number)


@pytest.fixture
def service_api(client, practice):
    """The booking site's own (service) view of the practice: slot search only."""
    return SandboxApi(client, practice.ods_code, None)


@pytest.fixture
def schedule(practice):
    return factories.make_schedule(practice)
