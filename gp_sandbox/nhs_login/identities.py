"""The stand-in's identities (the sandbox's patients, and people who have proved only their
email and mobile), the vectors of trust they meet, and the claims released about them."""

import json
import re
import uuid

from gp_sandbox.models import LoginIdentity, Patient

# Subjects are derived, so that seeding again keeps every person's sub.
_SUB_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://gp-sandbox.invalid/nhs-login/sub")

# NHS login's vectors of trust: identity proofing level, then how the person authenticated.
VECTOR_OF_TRUST = re.compile(r"^P(0|5|9)\.(Cp\.Cd|Cp\.Ck|Cm)$")
DEFAULT_VTR = ("P9.Cp.Cd",)
# Which requested levels each identity proofing level satisfies.
_SATISFIES = {"P9": {"P9", "P5", "P0"}, "P5": {"P5", "P0"}, "P0": {"P0"}}
_DRAMA_MOBILE = re.compile(r"^07700 ?900\d{3}$")


def sub_for_nhs_number(nhs_number: str) -> uuid.UUID:
    """The sub of the person with this NHS number: uuid5 of it, in the stand-in's namespace."""
    return uuid.uuid5(_SUB_NAMESPACE, f"nhs-number:{nhs_number}")


def sub_for_email(email: str) -> uuid.UUID:
    """The sub of a person with no NHS number (P0): uuid5 of their email, lower-cased."""
    return uuid.uuid5(_SUB_NAMESPACE, f"email:{email.lower()}")


def e164_mobile(mobile: str) -> str:
    """A UK mobile in Ofcom's drama range ("07700 900123") as E.164 ("+447700900123")."""
    if not _DRAMA_MOBILE.match(mobile):
        raise ValueError(f"{mobile!r} is not in the drama range 07700 900000 to 07700 900999")
    return "+44" + mobile.replace(" ", "")[1:]


def demo_email(given: str, family: str) -> str:
    """A demo person's email: firstname.lastname@example.com."""
    return f"{_letters(given)}.{_letters(family)}@example.com"


def demo_mobile(nhs_number: str) -> str:
    """A drama-range mobile for a patient who was given none, derived from the NHS number."""
    return f"07700 900{int(nhs_number) % 1000:03d}"


def _letters(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def identity_for(patient: Patient, level: str = LoginIdentity.Level.P9) -> LoginIdentity:
    """The patient's NHS login identity, made (at ``level``) if they have none yet."""
    identity, _ = LoginIdentity.objects.get_or_create(
        patient=patient,
        defaults={
            "sub": sub_for_nhs_number(patient.nhs_number),
            "identity_proofing_level": level,
            "email": demo_email(patient.given, patient.family),
            "phone_number": e164_mobile(demo_mobile(patient.nhs_number)),
        },
    )
    return identity


def parse_vtr(value: str | None) -> tuple[str, ...]:
    """The requested vectors of trust, from the ``vtr`` parameter (a JSON array of strings).

    Raises ValueError when it is not one.
    """
    if value is None:
        return DEFAULT_VTR
    try:
        vectors = json.loads(value)
    except ValueError:
        raise ValueError("vtr is not a JSON array") from None
    if (
        not isinstance(vectors, list)
        or not vectors
        or not all(isinstance(v, str) and VECTOR_OF_TRUST.match(v) for v in vectors)
    ):
        raise ValueError("vtr must be a JSON array of vectors of trust such as P9.Cp.Cd")
    return tuple(vectors)


def vector_met(identity: LoginIdentity, vtr: tuple[str, ...]) -> str | None:
    """The first requested vector of trust the identity satisfies, or None."""
    levels = _SATISFIES[identity.identity_proofing_level]
    return next((vector for vector in vtr if vector.split(".")[0] in levels), None)


def has_nhs_number(identity: LoginIdentity) -> bool:
    return identity.identity_proofing_level in {"P9", "P5"} and identity.patient is not None


def userinfo_claims(identity: LoginIdentity, scope: str) -> dict:
    """The claims released about ``identity`` for the granted ``scope`` (space-separated)."""
    scopes = set(scope.split())
    claims: dict = {}
    if "openid" in scopes:
        claims["sub"] = str(identity.sub)
    if "profile" in scopes:
        patient = identity.patient
        if has_nhs_number(identity):
            claims.update(
                nhs_number=patient.nhs_number,
                family_name=patient.family,
                given_name=patient.given,
                birthdate=patient.birth_date.isoformat(),
            )
        claims["identity_proofing_level"] = identity.identity_proofing_level
    if "email" in scopes:
        claims.update(email=identity.email, email_verified=True)
    if "phone" in scopes:
        claims.update(phone_number=identity.phone_number, phone_number_verified=True)
    if "gp_registration_details" in scopes and identity.gp_ods_code:
        claims["gp_registration_details"] = {"gp_ods_code": identity.gp_ods_code}
    return claims
