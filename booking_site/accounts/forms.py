"""The sign-in form of practice staff and administrators, in the NHS service manual's voice.

Patients have no form here: they sign in through NHS login.
"""

from django import forms
from django.contrib.auth import authenticate
from django.http import HttpRequest

from booking_site.accounts.models import User


class SignInForm(forms.Form):
    email = forms.CharField(
        label="Email address or username",
        error_messages={"required": "Enter your email address or username"},
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
                    "Enter the email address or username and password for your staff account"
                )
        return cleaned
