from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0007_resource_paused"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="reject_reason",
            field=models.TextField(
                blank=True,
                help_text="Why the order was rejected, as the reviewer wrote it; told to its creator.",
                max_length=2000,
            ),
        ),
    ]
