from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0001_initial"),
    ]

    operations = [
        # Remembered ids live for minutes; the ones held now are dropped rather than given an issuer.
        migrations.RunSQL("DELETE FROM providers_seentoken", migrations.RunSQL.noop),
        migrations.AddField(
            model_name="seentoken",
            name="issuer",
            field=models.CharField(default="", max_length=50),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="seentoken",
            name="jti",
            field=models.CharField(max_length=255),
        ),
        migrations.AddConstraint(
            model_name="seentoken",
            constraint=models.UniqueConstraint(fields=("issuer", "jti"), name="seen_token_once_per_issuer"),
        ),
    ]
