import django.db.models.deletion
from django.db import migrations, models

# The unique key (resource, component_type, billing_period, username) leads with the resource and serves
# every look-up by it; the foreign key's own index only cost an insert per row. Only the index goes: the
# constraint stays as it is (Django's AlterField would drop it and check it again over the whole table).
INDEX = "accounting_componentusage_resource_id_3dc314b9"


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0005_policies"),
        ("marketplace", "0009_portal_list_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="componentusage",
                    name="resource",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="component_usages",
                        to="marketplace.resource",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "accounting_componentusage" ("resource_id")',
                ),
            ],
        ),
    ]
