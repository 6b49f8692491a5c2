"""Sign-up and sign-in forms, with messages in the NHS service manual's voice."""

import datetime

import nhs_number
from django import forms
from django.contrib.auth import authenticate, password_validation
from django.http import HttpRequest
from django.utils import timezone

from booking_site.accounts.models import User
from booking_site.core.nhsuk_forms import DateField
from booking_site.practices.models import Practice


def clean_nhs_number(raw: str) -> str:
    """Accept spaces or dashes as people write them; return the 10 digits."""
    digits = raw.replace(" ", "").replace("-", "")
    if not digits:
        raise forms.ValidationError("Enter your NHS number")
    if not digits.isdigit() or len(digits) != 10:
        raise forms.ValidationError("NHS number must be 10 digits")
    if not nhs_number.is_valid(digits):
        raise forms.ValidationError("Enter a valid NHS number")
    return digits


class SignUpForm(forms.Form):
    first_name = forms.CharField(
        label="First name", error_messages={"required": "Enter your first name"}
    )
    last_name = forms.CharField(
        label="Last name", error_messages={"required": "Enter your last name"}
    )
    email = forms.EmailField(
        label="Email address",
        help_text="You will use this to sign in",
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
        },
    )
    date_of_birth = DateField(
        name="your date of birth", label="Date of birth", help_text="For example, 15 3 1984"
    )
    nhs_number = forms.CharField(
        label="NHS number",
        help_text="This is a 10 digit number, like 999 123 4567",
        required=False,
    )
    registered_practice = forms.ModelChoiceField(
        label="Your GP practice",
        queryset=Practice.objects.order_by("name"),
        empty_label="Choose your GP practice",
        error_messages={
            "required": "Choose your GP practice",
            "invalid_choice": "Choose your GP practice",
        },
    )
    password = forms.CharField(
        label="Create a password",
        help_text="At least 8 characters, not a common password and not all numbers",
        strip=False,
        error_messages={"required": "Create a password"},
    )
    password_confirmation = forms.CharField(
        label="Confirm your password",
        strip=False,
        error_messages={"required": "Confirm your password"},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["registered_practice"].label_from_instance = lambda practice: (
            f"{practice.name}, {practice.address}" if practice.address else practice.name
        )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(username__iexact=email).exists():
            raise forms.ValidationError(
                "An account already uses this email address. Sign in instead"
            )
        return email

    def clean_date_of_birth(self) -> datetime.date:
        born = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born >= today:
            raise forms.ValidationError("Your date of birth must be in the past")
        if born.year < 1900:
            raise forms.ValidationError("Your date of birth must be after 1900")
        return born

    def clean_nhs_number(self) -> str:
        number = clean_nhs_number(self.cleaned_data["nhs_number"])
        if User.objects.filter(nhs_number=number).exists():
            raise forms.ValidationError("An account already uses this NHS number. Sign in instead")
        return number

    def clean(self) -> dict:
        cleaned = super().clean()
        password = cleaned.get("password")
        confirmation = cleaned.get("password_confirmation")
        if password and confirmation and password != confirmation:
            self.add_error("password_confirmation", "Passwords do not match")
        if password and not self.has_error("password"):
            candidate = User(
                username=cleaned.get("email", ""),
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password", error.messages[0])
        return cleaned

    def save(self) -> User:
        data = self.cleaned_data
        return User.objects.create_user(
            username=data["email"],
            email=data["email"],
            password=data["password"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
            nhs_number=data["nhs_number"],
            registered_practice=data["registered_practice"],
        )


class SignInForm(forms.Form):
    email = forms.CharField(
        label="Email address", error_messages={"required": "Enter your email address"}
    )
    password = forms.CharField(
        label="Password", strip=False, error_messages={"required": "Enter your password"}
    )

    def __init__(self, request: HttpRequest, *args, **kwargs) -> None:
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self) -> dict:
        cleaned = super().clean()
        email, password = cleaned.get("email"), cleaned.get("password")
        if email and password:
            # django-axes counts failures through authenticate(); it needs the request.
            self.user = authenticate(
                self.request, username=email.strip().lower(), password=password
            )
            if self.user is None:
                raise forms.ValidationError(
                    "Enter the email address and password you used to create your account"
                )
        return cleaned
