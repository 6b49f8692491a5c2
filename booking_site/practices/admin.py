from django.contrib import admin

from booking_site.practices.models import Federation, Practice


@admin.register(Federation)
class FederationAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ["ods_code", "name", "federation", "base_url"]
    list_filter = ["federation"]
    search_fields = ["ods_code", "name"]
