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
    ods_code = models.CharField("ODS code", max_length=10, unique=True)
    name = models.CharField(max_length=200)
    federation = models.ForeignKey(
        Federation, on_delete=models.SET_NULL, null=True, blank=True, related_name="practices"
    )
    base_url = models.URLField("GP Connect FHIR base URL", max_length=300)
    phone = models.CharField(max_length=40, blank=True)
    address = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})"
