from django.db import migrations


def create_roles(apps, schema_editor):
    from federation.models.roles import ensure_roles

    ensure_roles(apps.get_model("federation", "Role"))


class Migration(migrations.Migration):
    dependencies = [("federation", "0001_initial")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
