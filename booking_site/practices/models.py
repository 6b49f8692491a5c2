"""The site's practice directory (CONFORMANCE D2): which practices exist, where their GP Connect
endpoint is, and which federations (consumer-defined groups) they belong to."""

from django.db import models


class Federation(models.Model):
    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Practice(models.Model):
    class OnlineBooking(models.TextChoices):
        FEDERATION = "federation", "Patients of its federation"
        REGISTERED = "registered", "Its registered patients only"

    ods_code = models.CharField("ODS code", max_length=10, unique=True)
    name = models.CharField(max_length=200)
    federation = models.ForeignKey(
        Federation, on_delete=models.SET_NULL, null=True, blank=True, related_name="practices"
    )
    base_url = models.URLField("GP Connect FHIR base URL", max_length=300)
    phone = models.CharField(max_length=40, blank=True)
    address = models.CharField(max_length=300, blank=True)
    # Whom the practice lets book online through the site: the journey never offers, searches or
    # books a practice for a patient it would refuse (its "registered patients only" 403).
    online_booking = models.CharField(
        max_length=12, choices=OnlineBooking.choices, default=OnlineBooking.FEDERATION
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})"

    def books_online_for(self, user) -> bool:
        """Whether this practice takes online bookings from ``user``."""
        if self.online_booking == self.OnlineBooking.REGISTERED:
            return getattr(user, "registered_practice_id", None) == self.pk
        return True
