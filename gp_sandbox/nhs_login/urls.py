from django.urls import path

from gp_sandbox.nhs_login import views

urlpatterns = [
    path(".well-known/openid-configuration", views.discovery, name="nhs_login_discovery"),
    path(".well-known/jwks.json", views.jwks, name="nhs_login_jwks"),
    path("authorize", views.authorize, name="nhs_login_authorize"),
    path("token", views.token, name="nhs_login_token"),
    path("userinfo", views.userinfo, name="nhs_login_userinfo"),
]
