"""GP Connect (Patient Facing) Appointment Management: the site's only way to reach practices.

The only code in the project that talks HTTP to providers (STYLE rule 3). Async only: the views
that wait on practices are async and await these calls on the server's event loop.

    search_free_slots / first_free_slots / free_slots_within   slot search (slot_search.py)
    book / patient_appointments / read_appointment / cancel   one practice (appointments.py)
    booking_request / send_booking          a booking built once, stored, sent (again)
    session / use_transport / open_shared / close_shared      client lifetime (sessions.py)
    CredentialSource / PlatformCredentials  bearer tokens (credentials.py)
    FreeSlot, PracticeResult, BookedAppointment, …            what the calls give (values.py)
    ProviderError and its kinds             what a practice's "no" becomes (errors.py)

Inside: ``requests.py`` builds what is sent, ``transport.py`` sends it, ``parsing/`` reads the
replies, ``caching.py`` keeps slot search replies, ``config.py`` reads the settings.
"""

from booking_site.gpconnect.appointments import (
    book,
    booking_request,
    cancel,
    patient_appointments,
    read_appointment,
    send_booking,
)
from booking_site.gpconnect.credentials import PlatformCredentials
from booking_site.gpconnect.errors import (
    CancellationDisabled,
    CancellationRefused,
    Forbidden,
    InvalidReply,
    InvalidRequest,
    NotAuthorised,
    NotFound,
    ProviderError,
    SlotTaken,
    TokenRefused,
    TooLateToCancel,
    Unavailable,
    VersionConflict,
)
from booking_site.gpconnect.sessions import close_shared, open_shared, session, use_transport
from booking_site.gpconnect.slot_search import (
    first_free_slots,
    free_slots_within,
    search_free_slots,
)
from booking_site.gpconnect.transport import CredentialSource
from booking_site.gpconnect.values import (
    BookedAppointment,
    BookingDetails,
    BookingRequest,
    Clinician,
    DateRange,
    FreeSlot,
    JobRole,
    Organisation,
    Patient,
    PracticeEndpoint,
    PracticeResult,
    ResultStatus,
    ScheduleInfo,
    Surgery,
    instant,
)

__all__ = [
    "BookedAppointment",
    "BookingDetails",
    "BookingRequest",
    "CancellationDisabled",
    "CancellationRefused",
    "Clinician",
    "CredentialSource",
    "DateRange",
    "Forbidden",
    "FreeSlot",
    "InvalidReply",
    "InvalidRequest",
    "JobRole",
    "NotAuthorised",
    "NotFound",
    "Organisation",
    "Patient",
    "PlatformCredentials",
    "PracticeEndpoint",
    "PracticeResult",
    "ProviderError",
    "ResultStatus",
    "ScheduleInfo",
    "SlotTaken",
    "Surgery",
    "TokenRefused",
    "TooLateToCancel",
    "Unavailable",
    "VersionConflict",
    "book",
    "booking_request",
    "cancel",
    "close_shared",
    "first_free_slots",
    "free_slots_within",
    "instant",
    "open_shared",
    "patient_appointments",
    "read_appointment",
    "search_free_slots",
    "send_booking",
    "session",
    "use_transport",
]
