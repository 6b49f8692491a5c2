"""The resources a reply's Slots and Appointments point at: Schedules, Locations, Practitioners
and the practice's Organization, turned into ``ScheduleInfo``, ``Surgery``, ``Clinician`` and
``Organisation``.

Schedules are checked by hand (there is one per clinician, surgery and session type, so a
practice sends many); the others are validated in full (``stu3.validated``). A bad Location or
Practitioner only loses its display details.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.STU3.schedule import Schedule as FhirSchedule

from booking_site.gpconnect.fhir_urls import ODS_SYSTEM, PRACTITIONER_ROLE_URL
from booking_site.gpconnect.parsing.bundles import Invalid, is_fhir_id, log_skipped, ref_key
from booking_site.gpconnect.parsing.stu3 import canary, validated
from booking_site.gpconnect.values import Clinician, JobRole, Organisation, ScheduleInfo, Surgery


class SupportingResources:
    """The non-Slot resources of a reply, by ``Type/id``, validated on first use."""

    def __init__(self, resources: list[dict], ods: str) -> None:
        self.ods = ods
        self.index: dict[str, dict] = {}
        for resource in resources:
            kind, rid = resource.get("resourceType"), resource.get("id")
            if isinstance(kind, str) and isinstance(rid, str):
                self.index.setdefault(f"{kind}/{rid}", resource)
        self._models: dict[str, Any] = {}
        self._schedules: dict[str, ScheduleInfo | None] = {}
        self._schedule_shapes: set[int] = set()
        self._surgeries: dict[str, tuple[Surgery, Organisation | None]] = {}

    def add(self, key: str, resource: dict) -> None:
        self.index.setdefault(key, resource)

    def model(self, key: str) -> Any:
        if key in self._models:
            return self._models[key]
        resource = self.index.get(key)
        model = None
        kind, rid = key.split("/", 1)
        if resource is None:
            log_skipped(self.ods, kind, rid, "not in the reply")
        else:
            model, problem = validated(kind, resource)
            if problem is not None:
                log_skipped(self.ods, kind, resource.get("id"), problem)
        self._models[key] = model
        return model

    def schedule(self, reference: str) -> ScheduleInfo | None:
        """The schedule a slot points at, or None (logged) if it is missing or unusable."""
        if reference in self._schedules:
            return self._schedules[reference]
        info = None
        key = ref_key(reference)
        resource = self.index.get(key) if key and key.startswith("Schedule/") else None
        if resource is None:
            log_skipped(
                self.ods, "Schedule", key.split("/", 1)[1] if key else None, "not in the reply"
            )
        else:
            if len(resource) not in self._schedule_shapes:
                self._schedule_shapes.add(len(resource))
                canary(FhirSchedule, resource, self.ods)
            try:
                info = self._schedule_info(resource)
            except Invalid as problem:
                log_skipped(self.ods, "Schedule", resource.get("id"), f"invalid {problem}")
        self._schedules[reference] = info
        return info

    def _schedule_info(self, resource: dict) -> ScheduleInfo:
        """A strict check of exactly the Schedule fields the site uses (as for slots: there is
        a Schedule per clinician, surgery and session type, so a practice sends many)."""
        schedule_id = resource.get("id")
        if not is_fhir_id(schedule_id):
            raise Invalid("id")
        actors = resource.get("actor")
        if type(actors) is not list or not actors:
            raise Invalid("actor")
        location_key = practitioner_key = None
        for actor in actors:
            if type(actor) is not dict or type(actor.get("reference")) is not str:
                raise Invalid("actor")
            actor_key = ref_key(actor["reference"]) or ""
            if actor_key.startswith("Location/") and not location_key:
                location_key = actor_key
            elif actor_key.startswith("Practitioner/") and not practitioner_key:
                practitioner_key = actor_key
        if location_key is None:
            raise Invalid("no Location actor")
        category = resource.get("serviceCategory")
        if category is not None and type(category) is not dict:
            raise Invalid("serviceCategory")
        schedule_type = category.get("text") if category else None
        if schedule_type is not None and type(schedule_type) is not str:
            raise Invalid("serviceCategory.text")
        role = None
        extensions = resource.get("extension")
        if extensions is not None and type(extensions) is not list:
            raise Invalid("extension")
        for ext in extensions or ():
            if type(ext) is not dict or type(ext.get("url")) is not str:
                raise Invalid("extension")
            if ext["url"] == PRACTITIONER_ROLE_URL and role is None:
                role = _job_role(ext.get("valueCodeableConcept"))
        surgery, organisation = self.surgery(location_key)
        return ScheduleInfo(
            id=schedule_id,
            schedule_type=schedule_type or None,
            role=role,
            practitioner=self.clinician(practitioner_key, role) if practitioner_key else None,
            location=surgery,
            organisation=organisation,
        )

    def surgery(self, key: str) -> tuple[Surgery, Organisation | None]:
        if key in self._surgeries:
            return self._surgeries[key]
        model = self.model(key)
        location_id = key.split("/", 1)[1]
        if model is None:
            result = (Surgery(location_id), self.organisation(None))
        else:
            address = ()
            if model.address is not None:
                a = model.address
                address = tuple(
                    part for part in [*(a.line or ()), a.city, a.district, a.postalCode] if part
                )
            phone = next(
                (t.value for t in model.telecom or () if t.system == "phone" and t.value), None
            )
            managing = model.managingOrganization
            org_key = ref_key(managing.reference) if managing is not None else None
            result = (
                Surgery(location_id, model.name, address, phone),
                self.organisation(org_key),
            )
        self._surgeries[key] = result
        return result

    def organisation(self, key: str | None) -> Organisation | None:
        if key is None or not key.startswith("Organization/"):
            # Providers always include the practice's Organization; use it if there is one.
            keys = [k for k in self.index if k.startswith("Organization/")]
            if len(keys) != 1:
                return None
            key = keys[0]
        model = self.model(key)
        if model is None:
            return None
        ods = next(
            (i.value for i in model.identifier or () if i.system == ODS_SYSTEM and i.value), None
        )
        return Organisation(ods, model.name)

    def clinician(self, key: str, role: JobRole | None) -> Clinician:
        practitioner_id = key.split("/", 1)[1]
        model = self.model(key)
        if model is None:
            return Clinician(practitioner_id, None, None, role)
        name = None
        if model.name:
            first = model.name[0]
            parts = [*(first.prefix or ()), *(first.given or ()), first.family]
            name = " ".join(p for p in parts if p) or first.text
        return Clinician(practitioner_id, name, model.gender, role)


def _job_role(concept: Any) -> JobRole:
    if type(concept) is not dict:
        raise Invalid("practitioner role")
    codings = concept.get("coding")
    if type(codings) is not list or not codings or type(codings[0]) is not dict:
        raise Invalid("practitioner role")
    code, display = codings[0].get("code"), codings[0].get("display")
    if type(code) is not str or not code or (display is not None and type(display) is not str):
        raise Invalid("practitioner role")
    return JobRole(code, display or "")
