"""The sandbox's own data: practices, their diaries, patients and appointments, plus the
behaviour switches that make a practice slow, broken or strict on purpose."""

from django.db import models


class Practice(models.Model):
    """One GP practice system, served at /sandbox/<ODS>/FHIR/STU3/."""

    ods_code = models.CharField("ODS code", max_length=10, unique=True)
    name = models.CharField(max_length=200)
    # Which federation the practice belongs to, so the seed can tell the site about it. The
    # provider itself never uses this (CONFORMANCE §8: federations are the consumer's idea).
    federation = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40)
    address_line = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    postcode = models.CharField(max_length=10)
    version_id = models.PositiveIntegerField(default=1)

    # --- Behaviour switches (SWITCHES below; editable in the admin) --------------------------
    latency_ms = models.PositiveIntegerField(
        default=0,
        help_text="Every response takes at least this long, in milliseconds (the practice's "
        "own work included).",
    )
    latency_jitter_ms = models.PositiveIntegerField(
        default=0, help_text="Up to this many milliseconds more, at random, per response."
    )
    unavailable = models.BooleanField(default=False, help_text="Answer every request with 503.")
    hangs = models.BooleanField(
        default=False, help_text="Hold every request far past any sane timeout."
    )
    malformed_json = models.BooleanField(
        default=False, help_text="Reply to slot searches with a body that is not JSON."
    )
    invalid_fhir = models.BooleanField(
        default=False, help_text="Reply to slot searches with JSON that is not a FHIR Bundle."
    )
    always_empty = models.BooleanField(
        default=False, help_text="Slot searches never find a free slot."
    )
    cancellation_disabled = models.BooleanField(
        default=False, help_text="Refuse every cancellation with 403 ACCESS_DENIED."
    )
    cancellation_cutoff_minutes = models.PositiveIntegerField(
        default=0,
        help_text="Refuse cancellation (461) this many minutes or fewer before the start. 0: none.",
    )
    cancellation_refused = models.BooleanField(
        default=False, help_text="Refuse every cancellation with 409 ACCESS_DENIED."
    )
    registered_patients_only = models.BooleanField(
        default=False,
        help_text="Only patients registered here may book or see appointments (403 otherwise).",
    )

    # The behaviour switches, named once for the admin, the seed and the tests. Faults stop the
    # practice answering slot searches promptly with its real slots; rules are ordinary practice
    # policies.
    FAULT_SWITCHES = (
        "latency_ms",
        "latency_jitter_ms",
        "unavailable",
        "hangs",
        "malformed_json",
        "invalid_fhir",
        "always_empty",
    )
    RULE_SWITCHES = (
        "cancellation_disabled",
        "cancellation_cutoff_minutes",
        "cancellation_refused",
        "registered_patients_only",
    )
    SWITCHES = FAULT_SWITCHES + RULE_SWITCHES

    class Meta:
        ordering = ["ods_code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})"

    @property
    def is_healthy(self) -> bool:
        """Whether the practice answers slot searches promptly with its real slots."""
        return not any(getattr(self, switch) for switch in self.FAULT_SWITCHES)


class Location(models.Model):
    """A surgery: the main site or a branch."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(max_length=200)
    address_line = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    postcode = models.CharField(max_length=10)
    phone = models.CharField(max_length=40)
    version_id = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.name


class Practitioner(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "female"
        MALE = "male"
        OTHER = "other"
        UNKNOWN = "unknown"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="practitioners")
    sds_user_id = models.CharField("SDS user id", max_length=20)
    prefix = models.CharField(max_length=20, blank=True)
    given = models.CharField(max_length=100)
    family = models.CharField(max_length=100)
    gender = models.CharField(max_length=10, choices=Gender.choices, blank=True)
    # SDS job role (CareConnect-SDSJobRoleName-1), e.g. R0260 General Medical Practitioner.
    role_code = models.CharField(max_length=10, blank=True)
    role_display = models.CharField(max_length=100, blank=True)
    version_id = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.prefix} {self.given} {self.family}".strip()


class Schedule(models.Model):
    """A diary: always at one Location, optionally for one Practitioner."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="schedules")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="schedules")
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, null=True, blank=True, related_name="schedules"
    )
    # Schedule.serviceCategory.text: the session or rota name shown to patients.
    service_category = models.CharField(max_length=100, blank=True)
    version_id = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.service_category or 'Schedule'} at {self.location}"


class Slot(models.Model):
    class Status(models.TextChoices):
        FREE = "free"
        BUSY = "busy"

    class DeliveryChannel(models.TextChoices):
        IN_PERSON = "In-person"
        TELEPHONE = "Telephone"
        VIDEO = "Video"
        VISIT = "Visit"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="slots")
    start = models.DateTimeField(db_index=True)
    end = models.DateTimeField()
    # Slot.serviceType[0].text: the practice's own name for the kind of appointment.
    service_type = models.CharField(max_length=100, blank=True)
    # Empty means the provider sent no delivery channel extension (cardinality 0..1).
    delivery_channel = models.CharField(max_length=20, choices=DeliveryChannel.choices, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FREE)
    # CONFORMANCE §1.3: a slot may be restricted to one booking organisation and/or org type.
    restricted_ods_code = models.CharField(max_length=10, blank=True)
    restricted_org_type = models.CharField(max_length=40, blank=True)
    version_id = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["schedule", "status", "start"])]

    def __str__(self) -> str:
        return f"Slot {self.pk} {self.start:%Y-%m-%d %H:%M} ({self.status})"


class Patient(models.Model):
    """A patient the practice system knows; their logical id is the NHS number (D1)."""

    nhs_number = models.CharField("NHS number", max_length=10, unique=True)
    given = models.CharField(max_length=100)
    family = models.CharField(max_length=100)
    birth_date = models.DateField()
    gender = models.CharField(max_length=10, blank=True)
    registered_practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="registered_patients"
    )

    def __str__(self) -> str:
        return f"{self.given} {self.family} ({self.nhs_number})"


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked"
        CANCELLED = "cancelled"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="appointments")
    patient_nhs_number = models.CharField(max_length=10, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    start = models.DateTimeField()
    end = models.DateTimeField()
    slots = models.ManyToManyField(Slot, related_name="appointments")
    version_id = models.PositiveIntegerField(default=1)
    last_updated = models.DateTimeField(auto_now=True)
    # The Appointment resource as the provider stores and returns it, minus meta.versionId and
    # lastUpdated; cancel compares the PUT body against it to refuse any other change.
    resource = models.JSONField()
    cancellation_reason = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Appointment {self.pk} at {self.practice.ods_code} ({self.status})"


class IdempotentRequest(models.Model):
    """The first outcome of a POST or PUT, replayed for a retry with the same X-Request-ID (D9)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE)
    request_id = models.CharField(max_length=36)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    # A hash of what was asked (path, patient, body), so that a reused X-Request-ID carrying a
    # different request is refused instead of being answered with someone else's outcome.
    request_digest = models.CharField(max_length=64, blank=True, default="")
    status_code = models.PositiveSmallIntegerField()
    headers = models.JSONField(default=dict)
    body = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "request_id", "method"], name="sandbox_unique_request_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.request_id})"


# --- The NHS login stand-in (gp_sandbox.nhs_login) -----------------------------------------------


class LoginIdentity(models.Model):
    """Someone who can sign in with the NHS login stand-in.

    P9 and P5 identities are sandbox patients (their NHS number, names, birth date and practice
    come from ``patient``); a P0 identity has proved only its email address and mobile number,
    so it has no patient, no NHS number and no practice.
    """

    class Level(models.TextChoices):
        P9 = "P9", "P9 (high)"
        P5 = "P5", "P5 (medium)"
        P0 = "P0", "P0 (low)"

    # NHS login's subject identifier: stable for the person, never their NHS number.
    sub = models.UUIDField(unique=True)
    identity_proofing_level = models.CharField(
        max_length=2, choices=Level.choices, default=Level.P9
    )
    patient = models.OneToOneField(
        Patient,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="login_identity",
    )
    email = models.EmailField()
    # E.164, e.g. +447700900123 (Ofcom's drama range 07700 900000 to 900999).
    phone_number = models.CharField(max_length=16)

    class Meta:
        verbose_name = "NHS login identity"
        verbose_name_plural = "NHS login identities"
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(identity_proofing_level="P0", patient__isnull=True)
                    | models.Q(identity_proofing_level__in=["P5", "P9"], patient__isnull=False)
                ),
                name="sandbox_login_identity_patient_iff_proved",
            )
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.identity_proofing_level})"

    @property
    def display_name(self) -> str:
        if self.patient is None:
            return self.email
        return f"{self.patient.given} {self.patient.family}"

    @property
    def nhs_number(self) -> str | None:
        return self.patient.nhs_number if self.patient else None

    @property
    def gp_ods_code(self) -> str | None:
        return self.patient.registered_practice.ods_code if self.patient else None


class NHSLoginAuthorizationCode(models.Model):
    """An authorisation code the stand-in has issued and not yet redeemed (single use)."""

    code = models.CharField(max_length=64, unique=True)
    identity = models.ForeignKey(LoginIdentity, on_delete=models.CASCADE)
    client_id = models.CharField(max_length=200)
    redirect_uri = models.TextField()
    scope = models.TextField()
    nonce = models.TextField()
    code_challenge = models.CharField(max_length=128)
    code_challenge_method = models.CharField(max_length=10)
    # The vector of trust met, e.g. "P9.Cp.Cd".
    vot = models.CharField(max_length=20)
    auth_time = models.PositiveBigIntegerField()
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "NHS login authorisation code"

    def __str__(self) -> str:
        return f"Authorisation code for {self.identity_id}"

    # Authlib's AuthorizationCodeMixin (OpenID Connect flavour).
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class NHSLoginAccessToken(models.Model):
    """An access token for the stand-in's userinfo endpoint. Only its SHA-256 digest is kept."""

    digest = models.CharField(max_length=64, unique=True)
    identity = models.ForeignKey(LoginIdentity, on_delete=models.CASCADE)
    client_id = models.CharField(max_length=200)
    scope = models.TextField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "NHS login access token"

    def __str__(self) -> str:
        return f"Access token for {self.identity_id}"


class UsedClientAssertion(models.Model):
    """A client assertion's ``jti``, remembered until the assertion expires so that it cannot
    be replayed (RFC 7523 §3), at either of the sandbox's token endpoints."""

    client_id = models.CharField(max_length=200)
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_id", "jti"], name="sandbox_unique_assertion")
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.jti}"


# The GOV.UK Notify stand-in's tables, defined beside its code and imported here so that they
# belong to this app.
from gp_sandbox.notify.models import NotifyBehaviour, NotifyMessage  # noqa: E402, F401
