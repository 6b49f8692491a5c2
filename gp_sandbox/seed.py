"""Demo data for the provider sandbox.

Three federations of GP practices, each practice with its surgeries, clinicians and eight weeks
of diaries (Monday to Friday, never on an England bank holiday), a few practices that misbehave
on purpose so testers meet every failure the site must survive, one practice whose diary is
labelled badly on purpose (for the staff preview's label checks), and demo patients, each an
identity of the NHS login stand-in (P9, one P5), plus one NHS login user with no NHS number (P0).

The practices (with their surgeries, federations and switches), the demo patients, clinicians'
names and what each kind of session offers are data, in ``seed.toml``; this module makes the
clinicians, their weekly sessions and the diaries from them. Everything comes from one integer
seed and the date "today": the same pair always gives the same data, and the diaries always start
tomorrow.
"""

import random
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import holidays
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from gp_sandbox.models import (
    Appointment,
    IdempotentRequest,
    Location,
    LoginIdentity,
    NHSLoginAccessToken,
    NHSLoginAuthorizationCode,
    Patient,
    Practice,
    Practitioner,
    Schedule,
    Slot,
    UsedClientAssertion,
)
from gp_sandbox.nhs_login.identities import (
    demo_email,
    e164_mobile,
    sub_for_email,
    sub_for_nhs_number,
)

# The practices, patients, clinicians' names and session menus the generator below works from.
DATA_FILE = Path(__file__).with_name("seed.toml")
DEFAULT_SEED = 1
# Eight weeks of diaries, starting tomorrow.
HORIZON_DAYS = 56

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

# What a session offers: (Slot.serviceType text, delivery channel, weight).
_Menu = tuple[tuple[str, str, int], ...]


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
    menus: dict[str, _Menu] = field(default_factory=dict)
    # One salaried or sessional GP whose record has no job role and no gender.
    unlabelled_clinician: bool = False


@dataclass(frozen=True)
class _PatientSpec:
    nhs_number: str
    given: str
    family: str
    gender: str
    birth_date: date
    registered_practice_ods: str
    # A UK mobile in Ofcom's drama range, e.g. "07700 900101".
    mobile: str
    identity_proofing_level: str = LoginIdentity.Level.P9


@dataclass(frozen=True)
class _LoginUserSpec:
    """Someone with an NHS login who has proved only their email and mobile (P0)."""

    email: str
    mobile: str


def _patient_spec(table: dict) -> _PatientSpec:
    spec = _PatientSpec(**table)
    if spec.identity_proofing_level not in {"P9", "P5"}:
        raise ImproperlyConfigured(f"{DATA_FILE.name}, {spec.nhs_number}: a patient is P9 or P5")
    e164_mobile(spec.mobile)
    return spec


def _login_user_spec(table: dict) -> _LoginUserSpec:
    spec = _LoginUserSpec(**table)
    e164_mobile(spec.mobile)
    return spec


def _menu(items: list[list]) -> _Menu:
    menu = tuple((service_type, channel, weight) for service_type, channel, weight in items)
    for _, channel, _ in menu:
        if channel and channel not in Slot.DeliveryChannel.values:
            raise ImproperlyConfigured(f"{DATA_FILE.name}: no delivery channel {channel!r}")
    return menu


def _practice_spec(table: dict, federations: list[str]) -> _PracticeSpec:
    where = f"{DATA_FILE.name}, {table['ods_code']}"
    if table["federation"] not in federations:
        raise ImproperlyConfigured(f"{where}: {table['federation']!r} is not in federations")
    unknown = set(table.get("switches", {})) - set(Practice.SWITCHES)
    if unknown:
        raise ImproperlyConfigured(f"{where}: no behaviour switches {sorted(unknown)}")
    return _PracticeSpec(
        **table
        | {
            "main": _Surgery(**table["main"]),
            "branch": _Surgery(**table["branch"]) if "branch" in table else None,
            "menus": {name: _menu(items) for name, items in table.get("menus", {}).items()},
        }
    )


# The practices, patients, clinicians' names and menus: data, read once.
with DATA_FILE.open("rb") as data_file:
    _DATA = tomllib.load(data_file)
_PRACTICES = tuple(_practice_spec(table, _DATA["federations"]) for table in _DATA["practices"])
_PATIENTS = tuple(_patient_spec(table) for table in _DATA["patients"])
_LOGIN_USERS = tuple(_login_user_spec(table) for table in _DATA["nhs_login_users"])
_FEMALE_NAMES = tuple(_DATA["names"]["female"])
_MALE_NAMES = tuple(_DATA["names"]["male"])
_FAMILY_NAMES = tuple(_DATA["names"]["family"])
# The usual menus, by session (see _weekly_sessions).
_MENUS = {name: _menu(items) for name, items in _DATA["menus"].items()}

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
    # Whom the practice books online: "registered" (its own patients only) or "federation".
    online_booking: str = "federation"


@dataclass(frozen=True)
class PatientSummary:
    nhs_number: str
    given: str
    family: str
    birth_date: date
    registered_practice_ods: str
    email: str
    # The patient's NHS login identity; None for a patient the seed did not make (tests').
    sub: str | None
    identity_proofing_level: str | None
    phone_number: str | None


@dataclass(frozen=True)
class LoginUserSummary:
    """An NHS login user who is not a sandbox patient (P0: no NHS number, no practice)."""

    sub: str
    identity_proofing_level: str
    email: str
    phone_number: str


@dataclass(frozen=True)
class SeedSummary:
    """What the sandbox holds, in the shape the site's practice directory is loaded from."""

    practices: tuple[PracticeSummary, ...]
    patients: tuple[PatientSummary, ...]
    nhs_login_users: tuple[LoginUserSummary, ...]
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
                    "online_booking": practice.online_booking,
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
                    "phone_number": patient.phone_number,
                    "sub": patient.sub,
                    "identity_proofing_level": patient.identity_proofing_level,
                }
                for patient in self.patients
            ],
            "nhs_login_users": [
                {
                    "sub": user.sub,
                    "identity_proofing_level": user.identity_proofing_level,
                    "email": user.email,
                    "phone_number": user.phone_number,
                }
                for user in self.nhs_login_users
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
        patients = Patient.objects.bulk_create(
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
        LoginIdentity.objects.bulk_create(
            [
                LoginIdentity(
                    sub=sub_for_nhs_number(spec.nhs_number),
                    identity_proofing_level=spec.identity_proofing_level,
                    patient=patient,
                    email=demo_email(spec.given, spec.family),
                    phone_number=e164_mobile(spec.mobile),
                )
                for spec, patient in zip(_PATIENTS, patients, strict=True)
            ]
            + [
                LoginIdentity(
                    sub=sub_for_email(spec.email),
                    identity_proofing_level=LoginIdentity.Level.P0,
                    email=spec.email,
                    phone_number=e164_mobile(spec.mobile),
                )
                for spec in _LOGIN_USERS
            ]
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
        Patient.objects.select_related("registered_practice", "login_identity"),
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
                healthy=practice.is_healthy,
                online_booking="registered" if practice.registered_patients_only else "federation",
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
                **_identity_summary(patient),
            )
            for patient in patients
        ),
        nhs_login_users=tuple(
            LoginUserSummary(
                sub=str(identity.sub),
                identity_proofing_level=identity.identity_proofing_level,
                email=identity.email,
                phone_number=identity.phone_number,
            )
            for identity in LoginIdentity.objects.filter(patient__isnull=True).order_by("email")
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


def _identity_summary(patient: Patient) -> dict:
    identity = getattr(patient, "login_identity", None)
    if identity is None:
        return {
            "email": demo_email(patient.given, patient.family),
            "sub": None,
            "identity_proofing_level": None,
            "phone_number": None,
        }
    return {
        "email": identity.email,
        "sub": str(identity.sub),
        "identity_proofing_level": identity.identity_proofing_level,
        "phone_number": identity.phone_number,
    }


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


def clear() -> None:
    """Delete everything the sandbox holds."""
    # Children before parents, as plain DELETEs: the ORM's cascade would first load every one of
    # the tens of thousands of slots into memory.
    models = (
        Appointment.slots.through,
        Appointment,
        IdempotentRequest,
        NHSLoginAccessToken,
        NHSLoginAuthorizationCode,
        UsedClientAssertion,
        LoginIdentity,
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
                    add(
                        weekday,
                        "Duty doctor",
                        morning,
                        minutes,
                        _MENUS["duty"],
                        location,
                        person,
                        2,
                    )
                else:
                    add(
                        weekday, "Morning surgery", morning, minutes, _MENUS["gp"], location, person
                    )
                if rng.random() < 0.3:
                    afternoon = (
                        rng.choice((time(14), time(14, 30), time(15))),
                        rng.choice((time(17, 30), time(18))),
                    )
                    add(
                        weekday,
                        "Afternoon surgery",
                        afternoon,
                        minutes,
                        _MENUS["gp"],
                        location,
                        person,
                    )
            elif role == "R0600":
                hours = (time(8, 30), time(12))
                add(
                    weekday,
                    "Minor illness clinic",
                    hours,
                    10,
                    _MENUS["minor_illness"],
                    location,
                    person,
                )
            elif role == "R0620":
                hours = rng.choice(((time(8, 30), time(12)), (time(14), time(17, 30))))
                add(weekday, "Nurse clinic", hours, 15, _MENUS["nurse"], location, person)
            elif role == "R1290":
                hours = (time(14), time(16))
                add(weekday, "Pharmacist clinic", hours, 15, _MENUS["pharmacist"], location, person)

    # A clinic without a named clinician: whoever is on the phlebotomy rota that morning.
    phlebotomy_at = somewhere()
    for weekday in sorted(rng.sample(range(5), 3)):
        add(
            weekday,
            "Phlebotomy clinic",
            (time(8, 30), time(11)),
            10,
            _MENUS["phlebotomy"],
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
                _MENUS["extended"],
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
