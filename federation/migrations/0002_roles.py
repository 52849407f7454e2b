from django.db import migrations

ROLES = {
    "CUSTOMER.OWNER": "Owns the organisation: manages its projects, members and orders.",
    "CUSTOMER.SUPPORT": "Reads everything of the organisation.",
    "PROJECT.ADMIN": "Manages the project's resources.",
    "PROJECT.MANAGER": "Manages the project's members, resources and orders.",
    "PROJECT.MEMBER": "Uses the project's resources.",
}


def create_roles(apps, schema_editor):
    Role = apps.get_model("federation", "Role")
    for name, description in ROLES.items():
        Role.objects.get_or_create(name=name, defaults={"description": description})


class Migration(migrations.Migration):
    dependencies = [("federation", "0001_initial")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
