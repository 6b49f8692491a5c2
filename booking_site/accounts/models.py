from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


class User(AbstractUser):
    """A person who signs in: a patient (has an NHS number), practice staff, or an administrator.

    Patients sign in with their email address, which is also their username.
    """

    nhs_number = models.CharField("NHS number", max_length=10, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    registered_practice = models.ForeignKey(
        "practices.Practice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registered_patients",
    )
    # Practice staff see the federations of the practices they work for.
    staff_practices = models.ManyToManyField(
        "practices.Practice", blank=True, related_name="staff_members"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["nhs_number"], condition=~Q(nhs_number=""), name="unique_patient_nhs_number"
            )
        ]

    @property
    def is_patient(self) -> bool:
        return bool(self.nhs_number)

    @property
    def is_practice_staff(self) -> bool:
        """Whether to offer the staff availability preview (which also checks that they work
        for a practice in a federation, and says so if not)."""
        return not self.is_patient and self.has_perm("availability.view_preview")
