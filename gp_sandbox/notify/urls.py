"""The Notify stand-in's mail-catcher page, under /sandbox/notify/ (the API: ``api_urls``)."""

from django.urls import path

from gp_sandbox.notify import views

urlpatterns = [
    path("", views.messages, name="notify_messages"),
    path("behaviour", views.behaviour, name="notify_behaviour"),
    path("delete-all", views.delete_all, name="notify_delete_all"),
]
