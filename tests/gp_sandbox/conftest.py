import datetime
from unittest import mock

import pytest
from joserfc.jwk import RSAKey

from booking_site.core.keys import ensure_keys
from gp_sandbox import factories
from tests.gp_sandbox.nhs_login_support import RelyingParty
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


@pytest.fixture(scope="session", autouse=True)
def _signing_keys():
    """The NHS login stand-in's signing key and the site's client key, made if absent."""
    ensure_keys()


@pytest.fixture(scope="session")
def relying_party_key() -> RSAKey:
    return RSAKey.generate_key(2048, private=True, auto_kid=True)


@pytest.fixture(scope="session")
def stranger_key() -> RSAKey:
    """A key nobody registered."""
    return RSAKey.generate_key(2048, private=True, auto_kid=True)


@pytest.fixture
def relying_party(settings, tmp_path, relying_party_key) -> RelyingParty:
    """A relying party with a freshly made key of its own, registered with the NHS login
    stand-in (and with the API platform's token exchange) through settings."""
    party = RelyingParty(relying_party_key)
    party.register(settings, tmp_path)
    return party


@pytest.fixture
def identity(patient):
    """The patient's NHS login identity, proved to P9."""
    return factories.make_identity(patient)
