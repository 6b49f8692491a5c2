"""The patient journey's services: booking (booking.py) and the patient's appointments
(appointments.py). Searching the practices is shared with the staff preview:
``booking_site.common.practice_search``."""
