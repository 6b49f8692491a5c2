from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

VERIFIED_LEVEL = "P9"
SUB_MAX_LENGTH = 255


class User(AbstractUser):
    """A person who signs in: a patient (through NHS login), practice staff, or an administrator
    (with the site's own username and password).

    A patient's account is made and kept up to date from NHS login's claims at each sign-in
    (``booking_site.accounts.nhs_login_accounts``): the NHS number, name, date of birth and
    registered practice come from nowhere else, and only at the high level of proof (P9). A
    patient has no usable password.
    """

    # NHS login's subject identifier: the same person signing in again finds this account.
    nhs_login_sub = models.CharField("NHS login subject", max_length=SUB_MAX_LENGTH, blank=True)
    # P9 (high: may book), P5 (medium) or P0 (low): the level of proof of the last sign-in.
    identity_level = models.CharField("identity proofing level", max_length=2, blank=True)
    # The last sign-in's ID token, exchanged at the API platform for GP Connect access tokens
    # (also by background tasks acting for the patient), and when it expires.
    nhs_login_id_token = models.TextField(blank=True)
    nhs_login_expires_at = models.DateTimeField(null=True, blank=True)
    email_verified = models.BooleanField(default=False)
    phone_number = models.CharField(max_length=20, blank=True)
    phone_number_verified = models.BooleanField(default=False)
    # How the patient wants to hear about their appointments ("" until they choose: email when
    # NHS login verified one; see booking_site.notifications.contact).
    contact_by = models.CharField(
        "messages by",
        max_length=8,
        choices=[("email", "Email"), ("sms", "Text message"), ("none", "No messages")],
        blank=True,
    )
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
            ),
            models.UniqueConstraint(
                fields=["nhs_login_sub"],
                condition=~Q(nhs_login_sub=""),
                name="unique_nhs_login_sub",
            ),
        ]

    @property
    def is_patient(self) -> bool:
        """Signed in through NHS login (at any level of proof)."""
        return bool(self.nhs_login_sub)

    @property
    def can_book(self) -> bool:
        """Proved to P9, with the NHS number and registered practice NHS login gave."""
        return (
            self.is_patient
            and self.identity_level == VERIFIED_LEVEL
            and bool(self.nhs_number)
            and self.registered_practice_id is not None
        )

    @property
    def is_practice_staff(self) -> bool:
        """Whether to offer the staff availability preview (which also checks that they work
        for a practice in a federation, and says so if not)."""
        return not self.is_patient and self.has_perm("availability.view_preview")
