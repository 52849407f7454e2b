from django.db import migrations

from common.db import TrigramIndexes


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0003_text_length_bounds"),
    ]

    operations = [
        TrigramIndexes("marketplace_offering", ["name"]),
        TrigramIndexes("marketplace_resource", ["name"]),
    ]
