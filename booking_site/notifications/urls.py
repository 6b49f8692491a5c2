from django.urls import path

from booking_site.notifications import views

app_name = "notifications"
urlpatterns = [
    path("account/messages/", views.contact_preferences, name="contact"),
    path("account/messages/saved/", views.contact_saved, name="contact_saved"),
    path("alerts/stop/<str:token>/", views.stop_alert, name="stop_alert"),
]
