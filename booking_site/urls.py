from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from booking_site.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("account/", include("booking_site.accounts.urls")),
    path("", include("booking_site.notifications.urls")),
    path("", include("booking_site.booking.urls")),
    path("staff/", include("booking_site.availability.urls")),
    path("admin/", admin.site.urls),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("gp_sandbox.urls")))
    # The GOV.UK Notify stand-in's REST API, at the host root as Notify's client expects.
    urlpatterns.append(path("v2/", include("gp_sandbox.notify.api_urls")))

handler403 = "booking_site.core.views.forbidden"
handler404 = "booking_site.core.views.not_found"
handler500 = "booking_site.core.views.server_error"
