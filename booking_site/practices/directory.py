"""Loading and reading the practice directory."""

import re

from django.db import transaction

from booking_site import gpconnect
from booking_site.practices.models import Federation, Practice

# ODS codes are short and alphanumeric (the model holds at most 10 characters).
_ODS_CODE = re.compile(r"[A-Za-z0-9]{1,10}")


def endpoint_for(practice: Practice) -> gpconnect.PracticeEndpoint:
    """Where and how the GP Connect client reaches ``practice``."""
    return gpconnect.PracticeEndpoint(
        practice.ods_code, practice.name, practice.base_url, practice.phone
    )


@transaction.atomic
def load_directory(document: dict) -> tuple[int, int]:
    """Create or update federations and practices from a directory document.

    The document has the shape ``seed_sandbox --json`` prints: ``practices`` with ods_code,
    name, federation, phone, address, base_url and online_booking ("federation", the default,
    or "registered"). Practices are matched on ODS code, so
    loading the same document twice changes nothing. Returns (federations, practices) loaded.
    """
    federations: dict[str, Federation] = {}
    for entry in document.get("practices", []):
        name = (entry.get("federation") or "").strip()
        if name and name not in federations:
            federations[name] = Federation.objects.get_or_create(name=name)[0]
    count = 0
    for entry in document.get("practices", []):
        Practice.objects.update_or_create(
            ods_code=entry["ods_code"],
            defaults={
                "name": entry["name"],
                "federation": federations.get((entry.get("federation") or "").strip()),
                "base_url": entry["base_url"],
                "phone": entry.get("phone", ""),
                "address": entry.get("address", ""),
                "online_booking": _online_booking(entry.get("online_booking")),
            },
        )
        count += 1
    return len(federations), count


def _online_booking(value: object) -> str:
    if value in Practice.OnlineBooking.values:
        return value
    return Practice.OnlineBooking.FEDERATION


def federation_practices(practice: Practice) -> list[Practice]:
    """Every practice in ``practice``'s federation (itself included), or none without one."""
    if practice.federation_id is None:
        return []
    return list(Practice.objects.filter(federation_id=practice.federation_id).order_by("name"))


def is_ods_code_shaped(value: object) -> bool:
    """Whether ``value`` could be an ODS code: anything else (a NUL byte from a query string,
    which PostgreSQL refuses with an error) is an unknown code, never part of a query."""
    return isinstance(value, str) and bool(_ODS_CODE.fullmatch(value))


async def afederation_practices(practice: Practice) -> list[Practice]:
    """``federation_practices`` for async views."""
    if practice.federation_id is None:
        return []
    query = Practice.objects.filter(federation_id=practice.federation_id).order_by("name")
    return [p async for p in query]


async def apractices_by_ods(ods_codes: list[str] | tuple[str, ...]) -> list[Practice]:
    """The practices with these ODS codes, in the order given; unknown codes are dropped."""
    codes = [code for code in ods_codes if is_ods_code_shaped(code)]
    found = {p.ods_code: p async for p in Practice.objects.filter(ods_code__in=codes)}
    return [found[code] for code in codes if code in found]
