from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from booking_site.accounts.models import User


@admin.register(User)
class SiteUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "is_staff", "registered_practice"]
    fieldsets = [
        *UserAdmin.fieldsets,
        ("Patient", {"fields": ["nhs_number", "date_of_birth", "registered_practice"]}),
        ("Practice staff", {"fields": ["staff_practices"]}),
    ]
    filter_horizontal = ["groups", "user_permissions", "staff_practices"]
