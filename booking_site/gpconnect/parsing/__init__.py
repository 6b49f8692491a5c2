"""Untrusted provider replies in, the frozen values of ``values.py`` out (STYLE rule 4).

    slot_replies.py          a slot search reply → FreeSlots (the typed way in and the careful way)
    appointment_replies.py   an Appointment, or a patient's searchset of them → BookedAppointments
    supporting_resources.py  the Schedules, Locations, Practitioners and Organization they point at
    outcomes.py              an OperationOutcome → the Spine code and diagnostics of an error
    stu3.py                  full validation with ``fhir.resources.STU3``, and the drift canary
    bundles.py               strict JSON, searchset Bundles, references, skipped-resource logging

How much is validated where (docs/adr/0002-parsing-slots-fast.md has the measurements):

* Practitioner, Location and Organization (a handful per practice) and Appointments are
  validated in full with ``fhir.resources.STU3``; supporting resources are remembered by their
  exact JSON, since a practice sends the same ones in every reply.
* Slots and Schedules, which grow with the size of the diary, get a strict hand-written check
  of exactly the fields the site uses, and the first of each shape in a reply is also validated
  in full with ``fhir.resources`` as a canary that logs any drift from STU3.
* A slot search reply with no deviation at all is decoded straight into the Slot fields the
  site checks (msgspec); any other takes the careful way, through plain JSON, with the same
  checks (docs/adr/0007-decoding-slot-replies-into-typed-fields.md).

Known provider deviations are tolerated (CONFORMANCE D7) and one bad resource only loses what
depends on it: a bad Slot is skipped, a bad Schedule skips its slots, a bad Location or
Practitioner only loses its display details. Skips are logged with the resource type, id and the
problem, never with values from the resource.
"""
