from django.urls import path

from booking_site.accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign_in"),
    path("nhs-login/", views.nhs_login_start, name="nhs_login"),
    path("nhs-login/callback/", views.nhs_login_callback, name="nhs_login_callback"),
    path("prove-who-you-are/", views.cannot_book, name="cannot_book"),
    path("staff/sign-in/", views.staff_sign_in, name="staff_sign_in"),
    path("stay-signed-in/", views.stay_signed_in, name="stay_signed_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("signed-out/", views.signed_out, name="signed_out"),
]
