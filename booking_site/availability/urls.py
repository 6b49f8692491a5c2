from django.urls import path

from booking_site.availability import views

app_name = "availability"

urlpatterns = [
    path("availability/", views.preview, name="preview"),
    path("availability/practice/<str:ods>/", views.practice, name="practice"),
    path("availability/free-slots.csv", views.export_csv, name="export"),
    path("availability/what-patients-see/", views.patient_view, name="patient_view"),
]
