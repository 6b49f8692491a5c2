"""Demo data for the provider sandbox.

Three federations of GP practices, each practice with its surgeries, clinicians and eight weeks
of diaries (Monday to Friday, never on an England bank holiday), a few practices that misbehave
on purpose so testers meet every failure the site must survive, one practice whose diary is
labelled badly on purpose (for the staff preview's label checks), and demo patients with the
sign-in details the site's accounts are made from.

Everything comes from one integer seed and the date "today": the same pair always gives the same
data, and the diaries always start tomorrow.
"""

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import holidays
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from gp_sandbox.models import (
    Appointment,
    IdempotentRequest,
    Location,
    Patient,
    Practice,
    Practitioner,
    Schedule,
    Slot,
)

DEFAULT_SEED = 1
# Eight weeks of diaries, starting tomorrow.
HORIZON_DAYS = 56
# Every demo patient's password on the site (their accounts are made from seed_sandbox --json).
DEMO_PASSWORD = "Demo-password-2026"  # noqa: S105 (a published demo password)

# SDS job roles (CareConnect-SDSJobRoleName-1) that GP practices put on their schedules.
SDS_JOB_ROLES = {
    "R0260": "General Medical Practitioner",
    "R0270": "Salaried General Practitioner",
    "R0600": "Specialist Nurse Practitioner",
    "R0620": "Staff Nurse",
    "R1290": "Pharmacist",
    "R6200": "GP Registrar",
    "R6300": "Sessional GP",
}
_DOCTORS = frozenset({"R0260", "R0270", "R6200", "R6300"})
# How many weekdays each role works in a typical week.
_DAYS_PER_WEEK = {
    "R0260": 4,
    "R0270": 3,
    "R0600": 3,
    "R0620": 4,
    "R1290": 2,
    "R6200": 4,
    "R6300": 2,
}

# The switches that stop a practice answering slot searches promptly with real slots. The other
# switches (cancellation rules, registered patients only) are ordinary practice policies.
FAULT_SWITCHES = (
    "latency_ms",
    "latency_jitter_ms",
    "unavailable",
    "hangs",
    "malformed_json",
    "invalid_fhir",
    "always_empty",
)

NORTH_RIVERSIDE = "North Riverside GP Federation"
HILLCREST = "Hillcrest Primary Care Network"
CASTLEGATE = "Castlegate Health Partnership"


@dataclass(frozen=True)
class _Surgery:
    name: str
    address_line: str
    city: str
    postcode: str
    phone: str


@dataclass(frozen=True)
class _PracticeSpec:
    ods_code: str
    name: str
    federation: str
    main: _Surgery
    branch: _Surgery | None = None
    # Evening GP sessions to 20:00 on two weekdays.
    extended_access: bool = False
    switches: dict[str, int | bool] = field(default_factory=dict)
    # Session name to the menu its slots are drawn from, in place of the usual one.
    menus: dict[str, tuple[tuple[str, str, int], ...]] = field(default_factory=dict)
    # One salaried or sessional GP whose record has no job role and no gender.
    unlabelled_clinician: bool = False


# Beeston Hill Surgery's sessions, labelled as the practice's own staff might: names from inside
# the practice, capitals, no name at all, and no delivery channel ("") among ordinary slots.
# (Service type, delivery channel, weight), as in the usual menus below.
_BADLY_LABELLED: dict[str, tuple[tuple[str, str, int], ...]] = {
    "Morning surgery": (
        ("General GP appointment", Slot.DeliveryChannel.IN_PERSON, 3),
        ("EMBARGO", Slot.DeliveryChannel.IN_PERSON, 2),
        ("Default slot", Slot.DeliveryChannel.TELEPHONE, 2),
        ("Slot 1", "", 2),
        ("", Slot.DeliveryChannel.IN_PERSON, 1),
    ),
    "Afternoon surgery": (
        ("General GP appointment", Slot.DeliveryChannel.IN_PERSON, 2),
        ("Slot 1", "", 1),
    ),
    "Nurse clinic": (
        ("Nurse appointment", Slot.DeliveryChannel.IN_PERSON, 2),
        ("Blood test", Slot.DeliveryChannel.IN_PERSON, 2),
        ("BLOOD PRESSURE CHECK", Slot.DeliveryChannel.IN_PERSON, 1),
        ("Slot 2", "", 1),
    ),
    # No clinician on this rota, so a slot without a name says nothing at all.
    "Phlebotomy clinic": (
        ("Blood test", Slot.DeliveryChannel.IN_PERSON, 2),
        ("", "", 1),
    ),
}

# Made-up practices. A20047 and B82617 are the codes the GP Connect demonstrator and provider
# tests use; the rest are letter + 5 digits. Phone numbers are in Ofcom's drama ranges.
# fmt: off
_PRACTICES = (
    _PracticeSpec(
        "A20047", "Riverside Medical Practice", NORTH_RIVERSIDE,
        _Surgery("Riverside Medical Centre", "14 Canal Wharf", "Leeds", "LS11 5PS",
                 "0113 496 0147"),
        _Surgery("Holbeck Branch Surgery", "2 Bridge Road", "Leeds", "LS11 9UG", "0113 496 0148"),
        extended_access=True,
    ),
    _PracticeSpec(
        "B86019", "Kirkstall Lane Surgery", NORTH_RIVERSIDE,
        _Surgery("Kirkstall Lane Surgery", "122 Kirkstall Lane", "Leeds", "LS5 3JN",
                 "0113 496 0231"),
        switches={"cancellation_disabled": True},
    ),
    _PracticeSpec(
        "B86044", "Meanwood Group Practice", NORTH_RIVERSIDE,
        _Surgery("Meanwood Health Centre", "8 Green Road", "Leeds", "LS6 4LE", "0113 496 0362"),
        _Surgery("Moortown Branch Surgery", "301 Harrogate Road", "Leeds", "LS17 6PA",
                 "0113 496 0363"),
    ),
    _PracticeSpec(
        "B86071", "Chapel Allerton Surgery", NORTH_RIVERSIDE,
        _Surgery("Chapel Allerton Surgery", "51 Town Street", "Leeds", "LS7 4NB", "0113 496 0475"),
    ),
    _PracticeSpec(
        "B86105", "Armley Moor Medical Practice", NORTH_RIVERSIDE,
        _Surgery("Armley Moor Health Centre", "95 Town Street", "Leeds", "LS12 3HD",
                 "0113 496 0588"),
        _Surgery("Wortley Branch Surgery", "18 Lower Wortley Road", "Leeds", "LS12 4PX",
                 "0113 496 0589"),
        switches={"latency_ms": 1500, "latency_jitter_ms": 500},
    ),
    _PracticeSpec(
        "B86128", "Headingley Park Surgery", NORTH_RIVERSIDE,
        _Surgery("Headingley Park Surgery", "7 Otley Road", "Leeds", "LS6 3AA", "0113 496 0614"),
        switches={"unavailable": True},
    ),
    _PracticeSpec(
        "B82617", "Hillcrest Surgery", HILLCREST,
        _Surgery("Hillcrest Surgery", "40 Hill Street", "Sheffield", "S10 1BT", "0114 496 0120"),
        _Surgery("Crookes Branch Surgery", "211 Crookes", "Sheffield", "S10 1TE", "0114 496 0121"),
    ),
    _PracticeSpec(
        "C88032", "Broomhill Medical Centre", HILLCREST,
        _Surgery("Broomhill Medical Centre", "12 Taptonville Road", "Sheffield", "S10 5BR",
                 "0114 496 0254"),
        extended_access=True,
        switches={"cancellation_cutoff_minutes": 24 * 60},
    ),
    _PracticeSpec(
        "C88057", "Walkley House Surgery", HILLCREST,
        _Surgery("Walkley House Surgery", "150 South Road", "Sheffield", "S6 3TE", "0114 496 0377"),
        _Surgery("Hillsborough Branch Surgery", "4 Middlewood Road", "Sheffield", "S6 4GU",
                 "0114 496 0378"),
    ),
    _PracticeSpec(
        "C88091", "Nether Edge Family Practice", HILLCREST,
        _Surgery("Nether Edge Family Practice", "63 Montgomery Road", "Sheffield", "S7 1LR",
                 "0114 496 0489"),
        switches={"hangs": True},
    ),
    _PracticeSpec(
        "C88114", "Sharrow Vale Surgery", HILLCREST,
        _Surgery("Sharrow Vale Surgery", "21 Sharrow Vale Road", "Sheffield", "S11 8ZA",
                 "0114 496 0536"),
        switches={"malformed_json": True},
    ),
    _PracticeSpec(
        "C84016", "Castlegate Medical Practice", CASTLEGATE,
        _Surgery("Castlegate Medical Centre", "3 Castle Gate", "Nottingham", "NG1 6AF",
                 "0115 496 0102"),
        _Surgery("Meadows Branch Surgery", "27 Arkwright Walk", "Nottingham", "NG2 2HW",
                 "0115 496 0103"),
        extended_access=True,
    ),
    _PracticeSpec(
        "C84039", "Sherwood Rise Surgery", CASTLEGATE,
        _Surgery("Sherwood Rise Surgery", "118 Nottingham Road", "Nottingham", "NG7 7AH",
                 "0115 496 0246"),
        switches={"registered_patients_only": True},
    ),
    _PracticeSpec(
        "C84062", "Lenton Abbey Health Centre", CASTLEGATE,
        _Surgery("Lenton Abbey Health Centre", "9 Derby Road", "Nottingham", "NG9 2SP",
                 "0115 496 0371"),
    ),
    _PracticeSpec(
        "C84085", "Trent Bridge Surgery", CASTLEGATE,
        _Surgery("Trent Bridge Surgery", "2 Radcliffe Road", "Nottingham", "NG2 5FF",
                 "0115 496 0420"),
        switches={"invalid_fhir": True},
    ),
    _PracticeSpec(
        "C84103", "Mapperley Park Medical Practice", CASTLEGATE,
        _Surgery("Mapperley Park Medical Practice", "70 Mansfield Road", "Nottingham", "NG5 2FB",
                 "0115 496 0597"),
        switches={"always_empty": True},
    ),
    # Answers promptly, but its diary is labelled as a practice's own staff would write it:
    # slot types patients cannot understand, slots without a delivery channel, and a GP whose
    # record has no job role or gender (see _BADLY_LABELLED).
    _PracticeSpec(
        "B86147", "Beeston Hill Surgery", NORTH_RIVERSIDE,
        _Surgery("Beeston Hill Surgery", "33 Dewsbury Road", "Leeds", "LS11 8QE",
                 "0113 496 0702"),
        menus=_BADLY_LABELLED,
        unlabelled_clinician=True,
    ),
)
# fmt: on


@dataclass(frozen=True)
class _PatientSpec:
    nhs_number: str
    given: str
    family: str
    gender: str
    birth_date: date
    registered_practice_ods: str


# 9000000009 is the patient in the patient-facing API's examples; 9449305552 is an NHS login
# test user. The rest are in the 999 range, which is never issued to real people.
# fmt: off
_PATIENTS = (
    _PatientSpec("9000000009", "Amelia", "Clarke", "female", date(1985, 3, 14), "A20047"),
    _PatientSpec("9449305552", "Oliver", "Bennett", "male", date(1972, 11, 2), "B82617"),
    _PatientSpec("9992345179", "Priya", "Patel", "female", date(1990, 7, 21), "B86019"),
    _PatientSpec("9993456284", "George", "Thompson", "male", date(1948, 5, 9), "C88032"),
    _PatientSpec("9994567314", "Chloe", "Williams", "female", date(2001, 9, 30), "C84039"),
    _PatientSpec("9996789535", "Mohammed", "Hussain", "male", date(1966, 1, 17), "C84016"),
    _PatientSpec("9997890647", "Eleanor", "Davies", "female", date(1958, 12, 3), "B86044"),
    _PatientSpec("9998901758", "Daniel", "Murphy", "male", date(1995, 4, 25), "C88057"),
)

_FEMALE_NAMES = (
    "Sarah", "Emma", "Rachel", "Helen", "Priya", "Aisha", "Claire", "Laura", "Hannah",
    "Rebecca", "Fatima", "Sophie", "Katherine", "Joanne", "Nadia", "Grace", "Olivia", "Megan",
)
_MALE_NAMES = (
    "James", "David", "Richard", "Andrew", "Mohammed", "Rajesh", "Thomas", "Michael", "Daniel",
    "Samuel", "Matthew", "Christopher", "Ahmed", "Oliver", "Benjamin", "Jonathan", "Kwame",
)
_FAMILY_NAMES = (
    "Ahmed", "Brown", "Campbell", "Chaudhry", "Clarke", "Cooper", "Davies", "Edwards", "Evans",
    "Green", "Hall", "Harris", "Hughes", "Jackson", "Khan", "Kaur", "Lewis", "Mitchell", "Morgan",
    "Nguyen", "Okafor", "Parker", "Patel", "Roberts", "Robinson", "Shah", "Singh", "Taylor",
    "Turner", "Walker", "Ward", "White", "Wilson", "Wood", "Wright", "Young",
)
# fmt: on

IN_PERSON = Slot.DeliveryChannel.IN_PERSON
TELEPHONE = Slot.DeliveryChannel.TELEPHONE
VIDEO = Slot.DeliveryChannel.VIDEO

# What a session offers: (Slot.serviceType text, delivery channel, weight).
_Menu = tuple[tuple[str, str, int], ...]
_GP_MENU: _Menu = (
    ("General GP appointment", IN_PERSON, 6),
    ("Telephone consultation", TELEPHONE, 3),
    ("Video consultation", VIDEO, 1),
)
_DUTY_MENU: _Menu = (
    ("Urgent GP appointment", IN_PERSON, 1),
    ("Telephone consultation", TELEPHONE, 1),
)
_EXTENDED_MENU: _Menu = (
    ("General GP appointment", IN_PERSON, 2),
    ("Video consultation", VIDEO, 1),
)
_MINOR_ILLNESS_MENU: _Menu = (
    ("Minor illness appointment", IN_PERSON, 3),
    ("Telephone consultation", TELEPHONE, 2),
)
_NURSE_MENU: _Menu = (
    ("Nurse appointment", IN_PERSON, 3),
    ("Blood test", IN_PERSON, 2),
    ("Asthma review", IN_PERSON, 1),
    ("Diabetes review", IN_PERSON, 1),
    ("Cervical screening", IN_PERSON, 1),
)
_PHARMACIST_MENU: _Menu = (
    ("Medication review", TELEPHONE, 2),
    ("Medication review", VIDEO, 1),
    ("Medication review", IN_PERSON, 1),
)
_PHLEBOTOMY_MENU: _Menu = (("Blood test", IN_PERSON, 1),)

# NHS 111 may book a duty doctor's first slots; they are hidden from a GP practice's search.
_URGENT_CARE = "urgent-care"


@dataclass(frozen=True)
class _Session:
    """One recurring weekly session in a diary."""

    weekday: int
    category: str
    start: time
    end: time
    minutes: int
    menu: _Menu
    location: Location
    practitioner: Practitioner | None = None
    restricted_slots: int = 0


@dataclass(frozen=True)
class PracticeSummary:
    ods_code: str
    name: str
    federation: str
    phone: str
    address: str
    base_url: str
    behaviour: str
    healthy: bool


@dataclass(frozen=True)
class PatientSummary:
    nhs_number: str
    given: str
    family: str
    birth_date: date
    registered_practice_ods: str
    email: str
    password: str


@dataclass(frozen=True)
class SeedSummary:
    """What the sandbox holds, in the shape the site's practice directory is loaded from."""

    practices: tuple[PracticeSummary, ...]
    patients: tuple[PatientSummary, ...]
    locations: int
    practitioners: int
    schedules: int
    slots: int
    busy_slots: int
    first_slot_day: date | None
    last_slot_day: date | None

    @property
    def federations(self) -> dict[str, list[str]]:
        """Federation name to its practices' ODS codes, in seed order."""
        federations: dict[str, list[str]] = {}
        for practice in self.practices:
            federations.setdefault(practice.federation, []).append(practice.ods_code)
        return federations

    def as_document(self) -> dict:
        """The document ``seed_sandbox --json`` prints."""
        return {
            "federations": [
                {"name": name, "practices": codes} for name, codes in self.federations.items()
            ],
            "practices": [
                {
                    "ods_code": practice.ods_code,
                    "name": practice.name,
                    "federation": practice.federation,
                    "phone": practice.phone,
                    "address": practice.address,
                    "base_url": practice.base_url,
                }
                for practice in self.practices
            ],
            "patients": [
                {
                    "nhs_number": patient.nhs_number,
                    "given": patient.given,
                    "family": patient.family,
                    "birth_date": patient.birth_date.isoformat(),
                    "registered_practice_ods": patient.registered_practice_ods,
                    "email": patient.email,
                    "password": patient.password,
                }
                for patient in self.patients
            ],
        }


def seed(seed: int, today: date) -> SeedSummary:
    """Replace everything in the sandbox with the demo data for ``seed``, diaries from tomorrow."""
    rng = random.Random(seed)
    with transaction.atomic():
        clear()
        practices = Practice.objects.bulk_create(_practice(spec) for spec in _PRACTICES)
        days = _working_days(today)
        for index, (spec, practice) in enumerate(zip(_PRACTICES, practices, strict=True)):
            _fill_practice(rng, index, spec, practice, days)
        by_ods = {practice.ods_code: practice for practice in practices}
        Patient.objects.bulk_create(
            Patient(
                nhs_number=spec.nhs_number,
                given=spec.given,
                family=spec.family,
                gender=spec.gender,
                birth_date=spec.birth_date,
                registered_practice=by_ods[spec.registered_practice_ods],
            )
            for spec in _PATIENTS
        )
    return describe()


def describe() -> SeedSummary:
    """Summarise what the sandbox holds now (seeded or not)."""
    order = {spec.ods_code: index for index, spec in enumerate(_PRACTICES)}
    practices = sorted(
        Practice.objects.all(), key=lambda p: (order.get(p.ods_code, len(order)), p.ods_code)
    )
    patient_order = {spec.nhs_number: index for index, spec in enumerate(_PATIENTS)}
    patients = sorted(
        Patient.objects.select_related("registered_practice"),
        key=lambda p: (patient_order.get(p.nhs_number, len(patient_order)), p.nhs_number),
    )
    span = Slot.objects.aggregate(first=Min("start"), last=Max("start"))
    return SeedSummary(
        practices=tuple(
            PracticeSummary(
                ods_code=practice.ods_code,
                name=practice.name,
                federation=practice.federation,
                phone=practice.phone,
                address=", ".join((practice.address_line, practice.city, practice.postcode)),
                base_url=practice_base_url(practice.ods_code),
                behaviour=describe_behaviour(practice),
                healthy=is_healthy(practice),
            )
            for practice in practices
        ),
        patients=tuple(
            PatientSummary(
                nhs_number=patient.nhs_number,
                given=patient.given,
                family=patient.family,
                birth_date=patient.birth_date,
                registered_practice_ods=patient.registered_practice.ods_code,
                email=demo_email(patient.given, patient.family),
                password=DEMO_PASSWORD,
            )
            for patient in patients
        ),
        locations=Location.objects.count(),
        practitioners=Practitioner.objects.count(),
        schedules=Schedule.objects.count(),
        slots=Slot.objects.count(),
        busy_slots=Slot.objects.filter(status=Slot.Status.BUSY).count(),
        first_slot_day=timezone.localdate(span["first"]) if span["first"] else None,
        last_slot_day=timezone.localdate(span["last"]) if span["last"] else None,
    )


def practice_base_url(ods_code: str) -> str:
    """Where the site finds this practice's GP Connect API (D2)."""
    return f"{settings.SANDBOX_BASE_URL.rstrip('/')}/{ods_code}/FHIR/STU3/"


def demo_email(given: str, family: str) -> str:
    """The demo patient's sign-in email: firstname.lastname@example.com."""
    return f"{_letters(given)}.{_letters(family)}@example.com"


def is_healthy(practice: Practice) -> bool:
    """Whether the practice answers slot searches promptly with its real slots."""
    return not any(getattr(practice, switch) for switch in FAULT_SWITCHES)


def describe_behaviour(practice: Practice) -> str:
    """The practice's behaviour switches in words, or "healthy" when none is set."""
    parts = []
    if practice.latency_ms or practice.latency_jitter_ms:
        parts.append(f"slow ({practice.latency_ms} ms + up to {practice.latency_jitter_ms} ms)")
    if practice.unavailable:
        parts.append("unavailable (503)")
    if practice.hangs:
        parts.append("hangs")
    if practice.malformed_json:
        parts.append("malformed JSON")
    if practice.invalid_fhir:
        parts.append("invalid FHIR")
    if practice.always_empty:
        parts.append("never has a free slot")
    if practice.cancellation_disabled:
        parts.append("cancellation disabled (403)")
    if practice.cancellation_cutoff_minutes:
        hours, minutes = divmod(practice.cancellation_cutoff_minutes, 60)
        window = f"{hours} hours" if not minutes else f"{practice.cancellation_cutoff_minutes} min"
        parts.append(f"no cancellation within {window} (461)")
    if practice.cancellation_refused:
        parts.append("cancellation refused (409)")
    if practice.registered_patients_only:
        parts.append("registered patients only")
    return ", ".join(parts) or "healthy"


def _letters(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def clear() -> None:
    """Delete everything the sandbox holds."""
    # Children before parents, as plain DELETEs: the ORM's cascade would first load every one of
    # the tens of thousands of slots into memory.
    models = (
        Appointment.slots.through,
        Appointment,
        IdempotentRequest,
        Patient,
        Slot,
        Schedule,
        Practitioner,
        Location,
        Practice,
    )
    with connection.cursor() as cursor:
        for model in models:
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (a model's own table name)


def _working_days(today: date) -> list[tuple[int, date]]:
    """(days from today, date) for each weekday in the horizon that is not a bank holiday."""
    last = today + timedelta(days=HORIZON_DAYS)
    bank_holidays = holidays.country_holidays(
        "GB", subdiv="ENG", years=range(today.year, last.year + 1)
    )
    days = []
    for offset in range(1, HORIZON_DAYS + 1):
        day = today + timedelta(days=offset)
        if day.weekday() < 5 and day not in bank_holidays:
            days.append((offset, day))
    return days


def _practice(spec: _PracticeSpec) -> Practice:
    return Practice(
        ods_code=spec.ods_code,
        name=spec.name,
        federation=spec.federation,
        phone=spec.main.phone,
        address_line=spec.main.address_line,
        city=spec.main.city,
        postcode=spec.main.postcode,
        **spec.switches,
    )


def _fill_practice(
    rng: random.Random,
    index: int,
    spec: _PracticeSpec,
    practice: Practice,
    days: list[tuple[int, date]],
) -> None:
    surgeries = [spec.main] if spec.branch is None else [spec.main, spec.branch]
    locations = Location.objects.bulk_create(
        Location(
            practice=practice,
            name=surgery.name,
            address_line=surgery.address_line,
            city=surgery.city,
            postcode=surgery.postcode,
            phone=surgery.phone,
        )
        for surgery in surgeries
    )
    names: set[tuple[str, str]] = set()
    team = Practitioner.objects.bulk_create(
        _practitioner(rng, practice, role, names) for role in _team_roles(index)
    )
    sessions = _weekly_sessions(rng, spec, locations, team)
    if spec.unlabelled_clinician:
        # The third of every team is a salaried or sessional GP (_team_roles). Their sessions
        # are planned by role first; only then does their record lose its role and gender.
        Practitioner.objects.filter(pk=team[2].pk).update(role_code="", role_display="", gender="")

    schedules: dict[tuple, Schedule] = {}
    for session in sessions:
        key = _schedule_key(session)
        if key not in schedules:
            schedules[key] = Schedule(
                practice=practice,
                location=session.location,
                practitioner=session.practitioner,
                service_category=session.category,
            )
    Schedule.objects.bulk_create(schedules.values())

    by_weekday: dict[int, list[_Session]] = {}
    for session in sessions:
        by_weekday.setdefault(session.weekday, []).append(session)
    tz = timezone.get_default_timezone()
    slots = []
    for offset, day in days:
        # Sooner days are busier: about 45% of slots taken tomorrow, 25% in eight weeks.
        busy_chance = 0.45 - 0.2 * offset / HORIZON_DAYS
        for session in by_weekday.get(day.weekday(), []):
            schedule = schedules[_schedule_key(session)]
            for index, (start, service_type, channel) in enumerate(_session_slots(rng, session)):
                begins = datetime.combine(day, start, tzinfo=tz)
                slots.append(
                    Slot(
                        schedule=schedule,
                        start=begins,
                        end=begins + timedelta(minutes=session.minutes),
                        service_type=service_type,
                        delivery_channel=channel,
                        status=Slot.Status.BUSY if rng.random() < busy_chance else Slot.Status.FREE,
                        restricted_org_type=_URGENT_CARE
                        if index < session.restricted_slots
                        else "",
                    )
                )
    Slot.objects.bulk_create(slots, batch_size=2000)


def _team_roles(index: int) -> list[str]:
    """Every practice has partners, a second kind of GP and nurses; some have more."""
    roles = ["R0260", "R0260", "R0270" if index % 2 == 0 else "R6300"]
    if index % 3 == 1:
        roles.append("R6200")
    if index % 3 != 2:
        roles.append("R0600")
    roles.append("R0620")
    if index % 2 == 0:
        roles.append("R1290")
    return roles


def _practitioner(
    rng: random.Random, practice: Practice, role: str, names: set[tuple[str, str]]
) -> Practitioner:
    """A clinician whose name nobody else at the practice has (``names`` holds those taken)."""
    gender = rng.choice((Practitioner.Gender.FEMALE, Practitioner.Gender.MALE))
    female = gender == Practitioner.Gender.FEMALE
    # Doctors are "Dr"; other clinicians go by their usual title.
    title = rng.choice(("Mrs", "Ms", "Miss")) if female else "Mr"
    while True:
        name = (rng.choice(_FEMALE_NAMES if female else _MALE_NAMES), rng.choice(_FAMILY_NAMES))
        if name not in names:
            names.add(name)
            break
    return Practitioner(
        practice=practice,
        sds_user_id=str(rng.randrange(10**11, 10**12)),
        prefix="Dr" if role in _DOCTORS else title,
        given=name[0],
        family=name[1],
        gender=gender,
        role_code=role,
        role_display=SDS_JOB_ROLES[role],
    )


def _weekly_sessions(
    rng: random.Random,
    spec: _PracticeSpec,
    locations: Sequence[Location],
    team: Sequence[Practitioner],
) -> list[_Session]:
    """The practice's week: who runs which session, when and where."""
    main = locations[0]

    def somewhere() -> Location:
        return locations[-1] if len(locations) > 1 and rng.random() < 0.3 else main

    working = {
        person.pk: sorted(rng.sample(range(5), _DAYS_PER_WEEK[person.role_code])) for person in team
    }
    # One of the GPs in each weekday morning is the duty doctor (registrars never are).
    senior_gps = [person for person in team if person.role_code in {"R0260", "R0270", "R6300"}]
    duty = {}
    for weekday in range(5):
        in_today = [person for person in senior_gps if weekday in working[person.pk]]
        if in_today:
            duty[weekday] = rng.choice(in_today).pk
    gp_minutes = rng.choice((10, 10, 15))

    sessions: list[_Session] = []

    def add(
        weekday: int,
        category: str,
        hours: tuple[time, time],
        minutes: int,
        menu: _Menu,
        location: Location,
        person: Practitioner | None = None,
        restricted_slots: int = 0,
    ) -> None:
        menu = spec.menus.get(category, menu)
        sessions.append(
            _Session(weekday, category, *hours, minutes, menu, location, person, restricted_slots)
        )

    for person in team:
        role = person.role_code
        for weekday in working[person.pk]:
            location = somewhere()
            if role in _DOCTORS:
                minutes = 15 if role == "R6200" else gp_minutes
                morning = (rng.choice((time(8, 30), time(9))), rng.choice((time(11, 30), time(12))))
                if duty.get(weekday) == person.pk:
                    add(weekday, "Duty doctor", morning, minutes, _DUTY_MENU, location, person, 2)
                else:
                    add(weekday, "Morning surgery", morning, minutes, _GP_MENU, location, person)
                if rng.random() < 0.3:
                    afternoon = (
                        rng.choice((time(14), time(14, 30), time(15))),
                        rng.choice((time(17, 30), time(18))),
                    )
                    add(
                        weekday, "Afternoon surgery", afternoon, minutes, _GP_MENU, location, person
                    )
            elif role == "R0600":
                hours = (time(8, 30), time(12))
                add(
                    weekday,
                    "Minor illness clinic",
                    hours,
                    10,
                    _MINOR_ILLNESS_MENU,
                    location,
                    person,
                )
            elif role == "R0620":
                hours = rng.choice(((time(8, 30), time(12)), (time(14), time(17, 30))))
                add(weekday, "Nurse clinic", hours, 15, _NURSE_MENU, location, person)
            elif role == "R1290":
                hours = (time(14), time(16))
                add(weekday, "Pharmacist clinic", hours, 15, _PHARMACIST_MENU, location, person)

    # A clinic without a named clinician: whoever is on the phlebotomy rota that morning.
    phlebotomy_at = somewhere()
    for weekday in sorted(rng.sample(range(5), 3)):
        add(
            weekday,
            "Phlebotomy clinic",
            (time(8, 30), time(11)),
            10,
            _PHLEBOTOMY_MENU,
            phlebotomy_at,
        )
    if spec.extended_access:
        for weekday in sorted(rng.sample(range(5), 2)):
            hours = (time(18, 30), time(20))
            add(
                weekday,
                "Extended access",
                hours,
                gp_minutes,
                _EXTENDED_MENU,
                main,
                rng.choice(senior_gps),
            )
    return sessions


def _schedule_key(session: _Session) -> tuple:
    practitioner = session.practitioner.pk if session.practitioner else None
    return (practitioner, session.location.pk, session.category)


def _session_slots(rng: random.Random, session: _Session) -> list[tuple[time, str, str]]:
    """(start, service type, channel) for each slot; runs of a few alike, as practices book."""

    def minutes(moment: time) -> int:
        return moment.hour * 60 + moment.minute

    starts = [
        time(*divmod(start, 60))
        for start in range(
            minutes(session.start), minutes(session.end) - session.minutes + 1, session.minutes
        )
    ]
    weights = [weight for _, _, weight in session.menu]
    slots = []
    while len(slots) < len(starts):
        service_type, channel, _ = rng.choices(session.menu, weights)[0]
        for start in starts[len(slots) : len(slots) + rng.choice((3, 4, 6))]:
            slots.append((start, service_type, channel))
    return slots
