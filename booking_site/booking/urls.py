from django.urls import path

from booking_site.booking.views import alerts, appointments, booking, journey, results

app_name = "booking"
urlpatterns = [
    path("book/", journey.start, name="start"),
    path("book/where/", journey.where, name="where"),
    path("book/when/", journey.when, name="when"),
    path("book/times/", results.choose_slot, name="choose_slot"),
    path("book/times/practice/<str:ods>/", results.practice_status, name="practice_status"),
    path("book/times/later/", journey.search_later, name="search_later"),
    path("book/details/", booking.details, name="details"),
    path("book/check/", booking.check, name="check"),
    path("book/taken/", booking.slot_taken, name="slot_taken"),
    path("book/alert/", alerts.new_alert, name="new_alert"),
    path("appointments/", appointments.appointments, name="appointments"),
    path("appointments/alerts/<uuid:pk>/", alerts.alert, name="alert"),
    path("appointments/alerts/<uuid:pk>/end/", alerts.end_alert, name="end_alert"),
    path("appointments/alerts/<uuid:pk>/search/", alerts.alert_search, name="alert_search"),
    path("appointments/<int:pk>/", appointments.appointment, name="appointment"),
    path("appointments/<int:pk>/confirmation/", appointments.confirmation, name="confirmation"),
    path("appointments/<int:pk>/calendar.ics", appointments.calendar_file, name="calendar"),
    path("appointments/<int:pk>/cancel/", appointments.cancel, name="cancel"),
    path(
        "appointments/<int:pk>/cancel/confirm/",
        appointments.cancel_confirm,
        name="cancel_confirm",
    ),
    # An appointment known only from its practice: the practice's ODS code and its own id.
    path(
        "appointments/<str:ods>/<str:appointment_id>/",
        appointments.practice_appointment,
        name="practice_appointment",
    ),
    path(
        "appointments/<str:ods>/<str:appointment_id>/calendar.ics",
        appointments.practice_calendar_file,
        name="practice_calendar",
    ),
    path(
        "appointments/<str:ods>/<str:appointment_id>/cancel/",
        appointments.practice_cancel,
        name="practice_cancel",
    ),
    path(
        "appointments/<str:ods>/<str:appointment_id>/cancel/confirm/",
        appointments.practice_cancel_confirm,
        name="practice_cancel_confirm",
    ),
]
