from django.urls import include, path

from gp_sandbox import token_views, views

app_name = "sandbox"

# Every practice system has its own FHIR base URL (D2): /sandbox/<ODS>/FHIR/STU3/
_BASE = "<str:ods>/FHIR/STU3/"

urlpatterns = [
    path("oauth2/token", token_views.token, name="token"),
    path("nhs-login/", include("gp_sandbox.nhs_login.urls")),
    path("notify/", include("gp_sandbox.notify.urls")),
    path(_BASE + "Slot", views.slot_search, name="slot_search"),
    path(_BASE + "Appointment", views.appointment_create, name="appointment_create"),
    path(_BASE + "Appointment/<str:appointment_id>", views.appointment, name="appointment"),
    path(
        _BASE + "Patient/<str:nhs_number>/Appointment",
        views.patient_appointments,
        name="patient_appointments",
    ),
]
