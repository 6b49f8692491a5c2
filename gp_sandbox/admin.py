"""Admin for the provider sandbox, mainly so testers can flip a practice's behaviour switches."""

from django.contrib import admin
from django.http import HttpRequest

from gp_sandbox.models import (
    Appointment,
    IdempotentRequest,
    Location,
    LoginIdentity,
    NotifyBehaviour,
    NotifyMessage,
    Patient,
    Practice,
    Practitioner,
    Schedule,
    Slot,
)


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0
    fields = ("name", "address_line", "city", "postcode", "phone")


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ("ods_code", "name", "federation", *Practice.SWITCHES)
    list_display_links = ("ods_code", "name")
    # Switches are edited straight from the list: that is what testers come here for.
    list_editable = Practice.SWITCHES
    list_filter = ("federation", *Practice.SWITCHES)
    search_fields = ("ods_code", "name")
    readonly_fields = ("version_id",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "ods_code",
                    "name",
                    "federation",
                    "phone",
                    "address_line",
                    "city",
                    "postcode",
                    "version_id",
                )
            },
        ),
        (
            "Faults: how the practice system answers",
            {
                "description": "A practice with any of these set is slow, broken or empty on "
                "purpose, so the site's error handling can be seen working.",
                "fields": Practice.FAULT_SWITCHES,
            },
        ),
        ("Practice rules", {"fields": Practice.RULE_SWITCHES}),
    )
    inlines = (LocationInline,)


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("name", "practice", "postcode", "phone")
    list_filter = ("practice",)
    list_select_related = ("practice",)
    search_fields = ("name", "postcode", "practice__ods_code", "practice__name")


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ("__str__", "role_display", "gender", "practice")
    list_filter = ("role_display", "gender", "practice")
    list_select_related = ("practice",)
    search_fields = ("given", "family", "sds_user_id", "practice__ods_code")


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ("service_category", "practitioner", "location", "practice")
    list_filter = ("service_category", "practice")
    list_select_related = ("practitioner", "location", "practice")
    raw_id_fields = ("location", "practitioner")
    search_fields = ("service_category", "practice__ods_code", "practitioner__family")


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin):
    list_display = (
        "start",
        "end",
        "service_type",
        "delivery_channel",
        "status",
        "schedule",
        "practice",
    )
    list_filter = ("status", "delivery_channel", "schedule__practice", "service_type")
    list_select_related = ("schedule__location", "schedule__practice")
    raw_id_fields = ("schedule",)
    date_hierarchy = "start"
    ordering = ("start",)
    search_fields = ("schedule__practice__ods_code", "service_type")
    show_full_result_count = False

    @admin.display(ordering="schedule__practice__ods_code")
    def practice(self, slot: Slot) -> str:
        return slot.schedule.practice.ods_code


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ("nhs_number", "given", "family", "birth_date", "registered_practice")
    list_filter = ("registered_practice",)
    list_select_related = ("registered_practice",)
    search_fields = ("nhs_number", "given", "family")


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    """Bookings are made and cancelled through the FHIR API; here they can be read or deleted."""

    list_display = ("pk", "start", "patient_nhs_number", "practice", "status", "version_id")
    list_filter = ("status", "practice")
    list_select_related = ("practice",)
    search_fields = ("patient_nhs_number", "practice__ods_code")
    readonly_fields = (
        "practice",
        "patient_nhs_number",
        "status",
        "start",
        "end",
        "slots",
        "version_id",
        "last_updated",
        "resource",
        "cancellation_reason",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(IdempotentRequest)
class IdempotentRequestAdmin(admin.ModelAdmin):
    """Replays of POST/PUT outcomes (D9): readable, and deletable to forget one."""

    list_display = ("created", "method", "path", "status_code", "request_id", "practice")
    list_filter = ("method", "status_code", "practice")
    list_select_related = ("practice",)
    search_fields = ("request_id", "path")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(LoginIdentity)
class LoginIdentityAdmin(admin.ModelAdmin):
    """Who can sign in with the NHS login stand-in, and how well they have proved who they are.
    Read-only: identities come from the seed (or the tests' factories); tokens are never shown."""

    list_display = ("__str__", "identity_proofing_level", "nhs_number", "email", "gp_ods_code")
    list_filter = ("identity_proofing_level",)
    list_select_related = ("patient__registered_practice",)
    search_fields = ("email", "patient__nhs_number", "patient__given", "patient__family")
    fields = ("sub", "identity_proofing_level", "patient", "email", "phone_number")
    readonly_fields = fields

    @admin.display(description="NHS number")
    def nhs_number(self, identity: LoginIdentity) -> str:
        return identity.nhs_number or "-"

    @admin.display(description="GP practice")
    def gp_ods_code(self, identity: LoginIdentity) -> str:
        return identity.gp_ods_code or "-"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(NotifyMessage)
class NotifyMessageAdmin(admin.ModelAdmin):
    """What the GOV.UK Notify stand-in accepted: read-only, and deletable to forget it. The
    mail-catcher page (/sandbox/notify/) shows the same messages as a patient reads them."""

    list_display = ("created_at", "type", "recipient", "template_name", "reference", "status")
    list_filter = ("type", "template_name", "status")
    search_fields = ("recipient", "reference")
    date_hierarchy = "created_at"
    fields = (
        "id",
        "created_at",
        "type",
        "recipient",
        "template_name",
        "template_id",
        "template_version",
        "reference",
        "status",
        "personalisation",
        "subject",
        "body",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(NotifyBehaviour)
class NotifyBehaviourAdmin(admin.ModelAdmin):
    """The Notify stand-in's failure switch: a single row."""

    list_display = ("__str__", "fail_with")
    list_editable = ("fail_with",)
    list_display_links = ("__str__",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not NotifyBehaviour.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
