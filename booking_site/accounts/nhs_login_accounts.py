"""A patient's account, made and kept up to date from what NHS login says about them.

Nothing a person types decides whose NHS number an account holds: only a validated NHS login
identity at the high level of proof (P9) gives one, with the name, date of birth and registered
practice. Someone proved only to P5 or P0 gets an account that cannot search or book.
"""

import datetime

import nhs_number
from django.db import transaction
from django.utils import timezone

from booking_site.accounts.models import SUB_MAX_LENGTH, VERIFIED_LEVEL, User
from booking_site.nhs_login import Identity, SignInFailed
from booking_site.practices.models import Practice

# A username nobody can sign in with by password: NHS login's subject, prefixed.
_USERNAME_PREFIX = "nhs-login:"


def _valid_nhs_number(value: str) -> bool:
    return len(value) == 10 and value.isascii() and value.isdigit() and nhs_number.is_valid(value)


@transaction.atomic
def account_for(identity: Identity) -> User:
    """The account for ``identity``, made on first sign-in and updated on every one."""
    if not identity.sub or len(identity.sub) > SUB_MAX_LENGTH:
        raise SignInFailed("NHS login's subject identifier is empty or too long")
    user = User.objects.select_for_update().filter(nhs_login_sub=identity.sub).first()
    if user is None:
        user = User(username=(_USERNAME_PREFIX + identity.sub)[:150], nhs_login_sub=identity.sub)
        user.set_unusable_password()

    verified = identity.is_verified
    if verified and not _valid_nhs_number(identity.nhs_number):
        raise SignInFailed("NHS login gave no valid NHS number for a verified identity")
    user.identity_level = identity.identity_proofing_level[:2]
    user.first_name = identity.given_name[:150]
    user.last_name = identity.family_name[:150]
    user.email = identity.email[:254]
    user.email_verified = identity.email_verified
    user.phone_number = identity.phone_number[:20]
    user.phone_number_verified = identity.phone_number_verified
    user.nhs_login_id_token = identity.id_token
    user.nhs_login_expires_at = datetime.datetime.fromtimestamp(
        identity.expires_at, tz=datetime.UTC
    )
    if verified:
        user.nhs_number = identity.nhs_number
        user.date_of_birth = identity.birthdate
        user.registered_practice = Practice.objects.filter(ods_code=identity.gp_ods_code).first()
        # The proved identity wins over any other account holding the number.
        User.objects.filter(nhs_number=identity.nhs_number).exclude(pk=user.pk).update(
            nhs_number="", registered_practice=None
        )
    else:
        # Below P9 nothing about who they are is relied on.
        user.nhs_number = ""
        user.date_of_birth = None
        user.registered_practice = None
    user.save()
    return user


def signed_in_until_passed(user) -> bool:
    """Whether a patient's NHS login ID token has expired (GP Connect would refuse them)."""
    if not getattr(user, "is_patient", False):
        return False
    expires_at = user.nhs_login_expires_at
    return expires_at is None or expires_at <= timezone.now()


__all__ = ["VERIFIED_LEVEL", "account_for", "signed_in_until_passed"]
