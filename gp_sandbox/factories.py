"""Factories for the sandbox's own data, used by the tests and the benchmarks: plain functions
that create rows (any field can be given), and the booking request a consumer would send."""

import datetime
import itertools

from gp_sandbox.fhir_responses import LONDON
from gp_sandbox.models import (
    Location,
    LoginIdentity,
    Patient,
    Practice,
    Practitioner,
    Schedule,
    Slot,
)
from gp_sandbox.nhs_login.identities import identity_for, sub_for_email

_counter = itertools.count(1)

# Valid NHS numbers (their check digits hold).
PATIENT_NHS_NUMBER = "9000000009"
OTHER_NHS_NUMBER = "9449305552"
THIRD_NHS_NUMBER = "9449310475"
# Ten digits whose check digit fails.
BAD_CHECKSUM_NHS_NUMBER = "9000000008"

BOOKING_ODS = "X26"


def uk(text: str) -> datetime.datetime:
    """A UK wall-clock time, e.g. uk("2027-03-22 09:00")."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=LONDON)


def make_practice(ods_code: str | None = None, **fields: object) -> Practice:
    n = next(_counter)
    values = {
        "ods_code": ods_code or f"S{n:05d}",
        "name": f"Sandbox Surgery {n}",
        "phone": "01632 960100",
        "address_line": "1 Surgery Lane",
        "city": "Riverside",
        "postcode": "RS1 1AA",
    }
    return Practice.objects.create(**(values | fields))


def make_location(practice: Practice, name: str = "Main Surgery", **fields: object) -> Location:
    values = {
        "address_line": "1 Surgery Lane",
        "city": "Riverside",
        "postcode": "RS1 1AA",
        "phone": "01632 960101",
    }
    return Location.objects.create(practice=practice, name=name, **(values | fields))


def make_practitioner(
    practice: Practice,
    *,
    role_code: str = "R0260",
    role_display: str = "General Medical Practitioner",
    **fields: object,
) -> Practitioner:
    values = {
        "sds_user_id": f"G{next(_counter):07d}",
        "prefix": "Dr",
        "given": "Ann",
        "family": "Jones",
        "gender": Practitioner.Gender.FEMALE,
    }
    return Practitioner.objects.create(
        practice=practice, role_code=role_code, role_display=role_display, **(values | fields)
    )


def make_schedule(
    practice: Practice,
    *,
    location: Location | None = None,
    practitioner: Practitioner | None = None,
    with_practitioner: bool = True,
    service_category: str = "Morning surgery",
) -> Schedule:
    if practitioner is None and with_practitioner:
        practitioner = make_practitioner(practice)
    return Schedule.objects.create(
        practice=practice,
        location=location or make_location(practice),
        practitioner=practitioner,
        service_category=service_category,
    )


def _slot(
    schedule: Schedule,
    start: datetime.datetime,
    *,
    minutes: int = 10,
    service_type: str = "General appointment",
    delivery_channel: str = Slot.DeliveryChannel.IN_PERSON,
    **fields: object,
) -> Slot:
    return Slot(
        schedule=schedule,
        start=start,
        end=start + datetime.timedelta(minutes=minutes),
        service_type=service_type,
        delivery_channel=delivery_channel,
        **fields,
    )


def make_slot(schedule: Schedule, start: datetime.datetime, **fields: object) -> Slot:
    """One slot (10 minutes, in person, unless told otherwise)."""
    slot = _slot(schedule, start, **fields)
    slot.save()
    return slot


def make_slots(
    schedule: Schedule, start: datetime.datetime, count: int, *, minutes: int = 10, **fields: object
) -> list[Slot]:
    """``count`` adjacent slots, the first starting at ``start``, made in one query."""
    step = datetime.timedelta(minutes=minutes)
    return Slot.objects.bulk_create(
        _slot(schedule, start + i * step, minutes=minutes, **fields) for i in range(count)
    )


def make_patient(practice: Practice, nhs_number: str = PATIENT_NHS_NUMBER) -> Patient:
    return Patient.objects.create(
        nhs_number=nhs_number,
        given="Ada",
        family="Lovelace",
        birth_date=datetime.date(1980, 5, 17),
        registered_practice=practice,
    )


def make_identity(patient: Patient, level: str = LoginIdentity.Level.P9) -> LoginIdentity:
    """The patient's NHS login identity (P9 unless told otherwise)."""
    identity = identity_for(patient, level)
    if identity.identity_proofing_level != level:
        identity.identity_proofing_level = level
        identity.save(update_fields=["identity_proofing_level"])
    return identity


def make_p5_identity(practice: Practice, nhs_number: str = OTHER_NHS_NUMBER) -> LoginIdentity:
    """A patient who has proved who they are only to P5."""
    patient = Patient.objects.create(
        nhs_number=nhs_number,
        given="Sophie",
        family="Green",
        birth_date=datetime.date(1999, 2, 11),
        registered_practice=practice,
    )
    return make_identity(patient, LoginIdentity.Level.P5)


def make_p0_identity(email: str | None = None) -> LoginIdentity:
    """An NHS login user who has proved only their email and mobile: no NHS number, no GP."""
    email = email or f"p0.user{next(_counter)}@example.com"
    return LoginIdentity.objects.create(
        sub=sub_for_email(email),
        identity_proofing_level=LoginIdentity.Level.P0,
        email=email,
        phone_number="+447700900999",
    )


def booking_organisation(org_type: str | None = "gp-practice") -> dict:
    organisation = {
        "resourceType": "Organization",
        "id": "1",
        "meta": {
            "profile": [
                "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Organization-1"
            ]
        },
        "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "X26"}],
        "name": "Book a GP appointment (NHS England)",
        "telecom": [{"system": "phone", "value": "0300 311 2233"}],
    }
    if org_type:
        organisation["type"] = [
            {
                "coding": [
                    {
                        "system": "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1",
                        "code": org_type,
                    }
                ]
            }
        ]
    return organisation


def appointment_body(
    slots: list[Slot], nhs_number: str = PATIENT_NHS_NUMBER, **overrides: object
) -> dict:
    """A valid booking request for the adjacent ``slots``, as the consumer should send it."""
    schedule = slots[0].schedule
    participants = [
        {"actor": {"reference": f"Patient/{nhs_number}"}, "status": "accepted"},
        {"actor": {"reference": f"Location/{schedule.location_id}"}, "status": "accepted"},
    ]
    if schedule.practitioner_id:
        participants.append(
            {
                "actor": {"reference": f"Practitioner/{schedule.practitioner_id}"},
                "status": "accepted",
            }
        )
    body = {
        "resourceType": "Appointment",
        "meta": {
            "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Appointment-1"]
        },
        "contained": [booking_organisation()],
        "extension": [
            {
                "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-BookingOrganisation-1",
                "valueReference": {"reference": "#1"},
            }
        ],
        "status": "booked",
        "description": "Routine review",
        "start": slots[0].start.astimezone(LONDON).isoformat(),
        "end": slots[-1].end.astimezone(LONDON).isoformat(),
        "slot": [{"reference": f"Slot/{slot.pk}"} for slot in slots],
        "created": "2027-03-01T12:00:00+00:00",
        "participant": participants,
    }
    return body | overrides
