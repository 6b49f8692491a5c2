"""The client's settings, read from ``django.conf.settings`` at each call (tests override them)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

# CONFORMANCE D5: searches are filtered for the booking organisation as a GP practice.
BOOKING_ORG_TYPE = "gp-practice"


@dataclass(frozen=True, slots=True)
class ClientConfig:
    practice_timeout: float
    deadline: float
    max_per_host: int
    retries: int
    slot_cache_ttl: int
    booking_org_ods: str
    booking_org_name: str
    booking_org_phone: str
    booking_org_type: str = BOOKING_ORG_TYPE


def current() -> ClientConfig:
    return ClientConfig(
        practice_timeout=float(settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS),
        deadline=float(settings.GPCONNECT_DEADLINE_SECONDS),
        max_per_host=max(1, int(settings.GPCONNECT_MAX_CONNECTIONS_PER_HOST)),
        retries=max(0, int(settings.GPCONNECT_RETRIES)),
        slot_cache_ttl=int(settings.SLOT_CACHE_TTL_SECONDS),
        booking_org_ods=settings.BOOKING_ORG_ODS,
        booking_org_name=settings.BOOKING_ORG_NAME,
        booking_org_phone=settings.BOOKING_ORG_PHONE,
    )
