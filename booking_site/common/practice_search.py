"""Searching the chosen practices for free slots, for the patient results and the staff preview
alike: every practice at once, each practice's outcome remembered for a short while.

A results page is built from what the practices said; with JavaScript it first shows only the
practices that have answered (``answered_only``) and asks each of the others in a request of its
own (the per-practice fragment, which is also the "try again" link). A practice that failed
moments ago is not asked again until the person says "try again" (``retry``). Practices that
answered are served from the GP Connect client's short-lived slot cache.

What a practice last said is kept in the cache under the person and the dates searched; if the
cache is down the practices are simply asked again.
"""

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from booking_site import gpconnect
from booking_site.accounts.models import User
from booking_site.practices.directory import endpoint_for
from booking_site.practices.models import Practice

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """What one practice last said to this person's search: shown as progress, and a practice
    that just failed is not asked again until they say "try again"."""

    status: str
    count: int = 0
    reason: str = ""
    elapsed_ms: int = 0


def _answer_key(user: User, ods: str, dates: gpconnect.DateRange) -> str:
    raw = f"{user.pk}:{user.can_book}:{ods}:{dates.start}:{dates.end}"
    return "search:answer:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


async def _remember(
    user: User, dates: gpconnect.DateRange, result: gpconnect.PracticeResult
) -> None:
    answer = Answer(
        status=str(result.status),
        count=len(result.slots),
        reason=result.reason or "",
        elapsed_ms=result.elapsed_ms,
    )
    try:
        await cache.aset(
            _answer_key(user, result.practice.ods_code, dates),
            answer,
            settings.SLOT_CACHE_TTL_SECONDS,
        )
    except Exception as error:  # progress is a convenience: never fail a search over it
        logger.warning("cache unavailable op=set error=%s", type(error).__name__)


async def answers(
    user: User, practices: Sequence[Practice], dates: gpconnect.DateRange
) -> dict[str, Answer | None]:
    """What each practice last said to this person's search of ``dates`` (None: not asked)."""
    keys = {p.ods_code: _answer_key(user, p.ods_code, dates) for p in practices}
    try:
        found = await cache.aget_many(list(keys.values()))
    except Exception as error:
        logger.warning("cache unavailable op=get_many error=%s", type(error).__name__)
        found = {}
    return {ods: found.get(key) for ods, key in keys.items()}


def _failed(practice: Practice, answer: Answer) -> gpconnect.PracticeResult:
    return gpconnect.PracticeResult(
        practice=endpoint_for(practice),
        status=gpconnect.ResultStatus.FAILED,
        failure=gpconnect.Unavailable(answer.reason or None),
        elapsed_ms=answer.elapsed_ms,
    )


def retried(query, practices: Sequence[Practice]) -> frozenset[str]:
    """The practices a page's "try again" link (``?retry=ODS``) asks for again."""
    codes = {practice.ods_code for practice in practices}
    return frozenset(code for code in query.getlist("retry") if code in codes)


def new_correlation_id() -> str:
    """The id that ties together every practice call made for one page request (D9)."""
    return uuid.uuid4().hex


async def search(
    user: User,
    practices: Sequence[Practice],
    dates: gpconnect.DateRange,
    *,
    correlation_id: str,
    retry: frozenset[str] = frozenset(),
    answered_only: bool = False,
    first_within: float | None = None,
    all_within: float | None = None,
) -> list[gpconnect.PracticeResult | None]:
    """Search every practice at once and return their results in the order given.

    Patients search with their own credential; staff (not patients) with the service
    credential, which may search slots and nothing else. A practice that failed moments ago is
    not asked again (its failure is shown) unless its ODS code is in ``retry``. With
    ``answered_only``, practices that have not answered yet are not asked and come back as None.
    With ``first_within``, the search comes back as soon as one practice has free slots (or
    after that many seconds): the practices still being asked come back as None, and their
    requests carry on for the per-practice fragments that ask next. With ``all_within``, the
    search comes back after at most that many seconds, the practices that have not answered as
    None (a page without JavaScript offers to check them again).
    """
    known = await answers(user, practices, dates)
    to_ask, results = [], {}
    for practice in practices:
        answer = known[practice.ods_code]
        if answer is not None and answer.status == "failed" and practice.ods_code not in retry:
            results[practice.ods_code] = _failed(practice, answer)
        elif answered_only and answer is None:
            results[practice.ods_code] = None
        else:
            to_ask.append(practice)
    if to_ask:
        endpoints = [endpoint_for(p) for p in to_ask]
        patient = (
            gpconnect.Patient(user.nhs_number, user.nhs_login_id_token) if user.can_book else None
        )
        if all_within is not None:
            found = await gpconnect.free_slots_within(
                endpoints, dates, patient, correlation_id=correlation_id, within=all_within
            )
        elif first_within is None:
            found = await gpconnect.search_free_slots(
                endpoints, dates, patient, correlation_id=correlation_id
            )
        else:
            found = await gpconnect.first_free_slots(
                endpoints, dates, patient, correlation_id=correlation_id, within=first_within
            )
        answered = [result for result in found if result is not None]
        await asyncio.gather(*(_remember(user, dates, result) for result in answered))
        for practice, result in zip(to_ask, found, strict=True):
            results[practice.ods_code] = result
    return [results[practice.ods_code] for practice in practices]
