from django.db import migrations

from common.db import TrigramIndexes


class Migration(migrations.Migration):
    dependencies = [
        ("federation", "0006_text_length_bounds"),
    ]

    operations = [
        TrigramIndexes("federation_project", ["name", "description"]),
        TrigramIndexes("federation_customer", ["name", "abbreviation", "native_name"]),
    ]
