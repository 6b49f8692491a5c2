from django.urls import path

from booking_site.booking import views

app_name = "booking"

urlpatterns = [
    path("book/", views.start, name="start"),
    path("book/where/", views.where, name="where"),
    path("book/when/", views.when, name="when"),
    path("book/times/", views.choose_slot, name="choose_slot"),
    path("book/times/list/", views.slot_list, name="slot_list"),
    path("book/times/practice/<str:ods>/", views.practice_status, name="practice_status"),
    path("book/times/later/", views.search_later, name="search_later"),
    path("book/times/preview/", views.preview_as_patient, name="preview_as_patient"),
    path("book/details/", views.details, name="details"),
    path("book/check/", views.check, name="check"),
    path("book/taken/", views.slot_taken, name="slot_taken"),
    path("appointments/", views.appointments, name="appointments"),
    path("appointments/<int:pk>/", views.appointment, name="appointment"),
    path("appointments/<int:pk>/confirmation/", views.confirmation, name="confirmation"),
    path("appointments/<int:pk>/calendar.ics", views.calendar_file, name="calendar"),
    path("appointments/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("appointments/<int:pk>/cancel/confirm/", views.cancel_confirm, name="cancel_confirm"),
]
