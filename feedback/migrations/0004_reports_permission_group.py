"""The "view reports" permission, a "Support leads" group holding it, and Moderators."""

from django.db import migrations

GROUP = "Support leads"


def create_reports_permission(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Permission = apps.get_model("auth.Permission")
    Group = apps.get_model("auth.Group")
    rollup_type, _ = ContentType.objects.get_or_create(
        app_label="feedback", model="dailyrollup"
    )
    view_reports, _ = Permission.objects.get_or_create(
        content_type=rollup_type,
        codename="view_reports",
        defaults={"name": "Can view help-center reports"},
    )
    admin_type, _ = ContentType.objects.get_or_create(
        app_label="wagtailadmin", model="admin"
    )
    access_admin, _ = Permission.objects.get_or_create(
        content_type=admin_type,
        codename="access_admin",
        defaults={"name": "Can access Wagtail admin"},
    )
    leads, _ = Group.objects.get_or_create(name=GROUP)
    leads.permissions.add(view_reports, access_admin)
    for group in Group.objects.filter(name="Moderators"):
        group.permissions.add(view_reports)


def remove_reports_permission(apps, schema_editor):
    Permission = apps.get_model("auth.Permission")
    Group = apps.get_model("auth.Group")
    Group.objects.filter(name=GROUP).delete()
    Permission.objects.filter(
        content_type__app_label="feedback", codename="view_reports"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0003_rollup_views_clicked_days"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("wagtailcore", "0002_initial_data"),
    ]

    operations = [
        migrations.RunPython(create_reports_permission, remove_reports_permission)
    ]
