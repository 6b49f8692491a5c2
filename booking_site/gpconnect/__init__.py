"""GP Connect (Patient Facing) Appointment Management: the site's only way to reach practices.

The only code in the project that talks HTTP to providers (STYLE rule 3). Async only: the views
that wait on practices are async and await these calls on the server's event loop.

    search_free_slots / iter_free_slots   slot search across practices (slots.py)
    book / patient_appointments / read_appointment / cancel   one practice (appointments.py)
    session / use_transport / open_shared / close_shared   client lifetime (transport.py)
    CredentialSource / SandboxCredentials bearer tokens (credentials.py)
"""

from booking_site.gpconnect.appointments import (
    book,
    cancel,
    patient_appointments,
    read_appointment,
)
from booking_site.gpconnect.credentials import CredentialSource, SandboxCredentials
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
    TooLateToCancel,
    Unavailable,
    VersionConflict,
)
from booking_site.gpconnect.slots import (
    adjacent_runs,
    are_adjacent,
    iter_free_slots,
    join_adjacent,
    search_free_slots,
)
from booking_site.gpconnect.transport import close_shared, open_shared, session, use_transport
from booking_site.gpconnect.types import (
    BookedAppointment,
    BookingDetails,
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
    SlotFilters,
    Surgery,
)

__all__ = [
    "BookedAppointment",
    "BookingDetails",
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
    "PracticeEndpoint",
    "PracticeResult",
    "ProviderError",
    "ResultStatus",
    "SandboxCredentials",
    "ScheduleInfo",
    "SlotFilters",
    "SlotTaken",
    "Surgery",
    "TooLateToCancel",
    "Unavailable",
    "VersionConflict",
    "adjacent_runs",
    "are_adjacent",
    "book",
    "cancel",
    "close_shared",
    "iter_free_slots",
    "join_adjacent",
    "open_shared",
    "patient_appointments",
    "read_appointment",
    "search_free_slots",
    "session",
    "use_transport",
]
