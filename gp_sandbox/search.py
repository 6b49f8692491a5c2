"""Searches the sandbox answers: free slots (CONFORMANCE §1.3, §2) and a patient's
appointments (§5.1), each as a searchset Bundle."""

import datetime

from django.db.models import CharField, Q
from django.db.models.functions import Cast

from gp_sandbox import fhir_responses
from gp_sandbox.models import Appointment, Practice, Schedule, Slot
from gp_sandbox.validation import AppointmentRange, SlotQuery

# What a practice with the ``malformed_json`` switch sends: a reply cut off mid-stream.
MALFORMED_JSON_BODY = '{"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {'
# What a practice with the ``invalid_fhir`` switch sends: JSON, but no usable Bundle.
INVALID_FHIR_BODY = {"resourceType": "Bundle", "type": "searchset", "entry": "oops"}


# The columns of a free slot that its Slot resource is built from, in ``fhir_responses.SlotRow``
# order. Start and end come as the database's own text (UTC): turning each into a datetime only
# to format it again cost more than the rest of the row.
_SLOT_COLUMNS = (
    "pk",
    "version_id",
    "delivery_channel",
    "service_type",
    "schedule_id",
    "status",
    "start_text",
    "end_text",
)


def free_slots(
    practice: Practice, query: SlotQuery, now: datetime.datetime
) -> list[fhir_responses.SlotRow]:
    """Bookable slots lying fully inside the window, filtered by the §1.3 matrix.

    A slot restricted to an organisation type (or ODS code) is offered only to a search that
    sends a matching filter; an unrestricted slot is offered to everyone. Past slots and home
    visits are never offered. Rows, not model instances: a search may return hundreds, and
    building a model object per slot was most of the cost of answering one.
    """
    type_allowed = Q(restricted_org_type="")
    if query.org_types:
        type_allowed |= Q(restricted_org_type__in=query.org_types)
    ods_allowed = Q(restricted_ods_code="")
    if query.ods_codes:
        ods_allowed |= Q(restricted_ods_code__in=query.ods_codes)
    return list(
        Slot.objects.filter(
            type_allowed,
            ods_allowed,
            schedule__practice=practice,
            status=Slot.Status.FREE,
            start__gte=query.start,
            end__lte=query.end,
            start__gt=now,
        )
        .exclude(delivery_channel=Slot.DeliveryChannel.VISIT)
        .order_by("start", "pk")
        .annotate(start_text=Cast("start", CharField()), end_text=Cast("end", CharField()))
        .values_list(*_SLOT_COLUMNS)
    )


def _unique(items: list) -> list:
    return list({item.pk: item for item in items if item is not None}.values())


def slot_bundle(practice: Practice, query: SlotQuery, slots: list[fhir_responses.SlotRow]) -> str:
    """Slots, their Schedules, the Locations/Practitioners asked for, and the Organization, as
    the JSON text of a searchset Bundle.

    The Organization comes whenever there is a slot, asked for or not (a known GP Connect
    issue consumers rely on); an empty result has no entries at all.
    """
    if not slots:
        return fhir_responses.searchset_text([])
    schedule_ids = list(dict.fromkeys(slot[fhir_responses.SLOT_SCHEDULE_ID] for slot in slots))
    found = Schedule.objects.select_related("location", "practitioner").in_bulk(schedule_ids)
    schedules = [found[pk] for pk in schedule_ids]
    resources = [fhir_responses.schedule_resource(schedule) for schedule in schedules]
    if query.include_location:
        locations = _unique([schedule.location for schedule in schedules])
        resources += [fhir_responses.location_resource(location) for location in locations]
    if query.include_practitioner:
        practitioners = _unique([schedule.practitioner for schedule in schedules])
        resources += [fhir_responses.practitioner_resource(p) for p in practitioners]
    resources.append(fhir_responses.organization_resource(practice))
    entries = [fhir_responses.slot_entry_text(slot) for slot in slots]
    entries += [fhir_responses.entry_text(resource) for resource in resources]
    return fhir_responses.searchset_text(entries)


def slot_search_body(practice: Practice, query: SlotQuery, now: datetime.datetime) -> dict | str:
    """The reply to a valid slot search, bent by the practice's fault switches."""
    if practice.malformed_json:
        return MALFORMED_JSON_BODY
    if practice.invalid_fhir:
        return INVALID_FHIR_BODY
    slots = [] if practice.always_empty else free_slots(practice, query, now)
    return slot_bundle(practice, query, slots)


def appointment_bundle(practice: Practice, nhs_number: str, dates: AppointmentRange) -> dict:
    """The patient's appointments at this practice starting within the dates, cancelled too,
    and with ``past_limit`` that many of the latest before them."""
    theirs = Appointment.objects.filter(practice=practice, patient_nhs_number=nhs_number)
    related = ("slots__schedule__location", "slots__schedule__practitioner")
    appointments = list(
        theirs.filter(start__gte=dates.start, start__lt=dates.end)
        .prefetch_related(*related)
        .order_by("start", "pk")
    )
    if dates.past_limit:
        past = theirs.filter(start__lt=dates.start).prefetch_related(*related)
        latest = list(past.order_by("-start", "-pk")[: dates.past_limit])
        appointments = latest[::-1] + appointments
    resources = [fhir_responses.appointment_resource(appointment) for appointment in appointments]
    schedules = _unique([slot.schedule for a in appointments for slot in a.slots.all()])
    if dates.include_location:
        locations = _unique([schedule.location for schedule in schedules])
        resources += [fhir_responses.location_resource(location) for location in locations]
    if dates.include_practitioner:
        practitioners = _unique([schedule.practitioner for schedule in schedules])
        resources += [fhir_responses.practitioner_resource(p) for p in practitioners]
    return fhir_responses.searchset(resources)
