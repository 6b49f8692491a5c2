"""The "Practice staff" group, holding the permission to preview availability.

The permission is created here rather than left to the post-migrate signal, which runs only
after every migration: the group needs it now. ``services.practice_staff_group`` makes the same
group when it is missing (after a test flushed the database, say).
"""

from django.db import migrations

GROUP = "Practice staff"
CODENAME = "view_preview"
PERMISSION_NAME = "Can preview availability at the practices in their federations"


def create_group(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(
        app_label="availability", model="staffsearch"
    )
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=CODENAME, defaults={"name": PERMISSION_NAME}
    )
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(permission)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("availability", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
