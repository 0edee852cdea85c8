# PasswordGuess becomes Attempt: the same counter for password guesses and reset mails.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_password_guess'),
    ]

    operations = [
        migrations.RemoveIndex(model_name='passwordguess', name='password_guess_user_at'),
        migrations.RenameModel(old_name='PasswordGuess', new_name='Attempt'),
        migrations.AddField(
            model_name='attempt',
            name='kind',
            field=models.CharField(
                choices=[('password_guess', 'Password Guess'), ('reset_mail', 'Reset Mail')],
                default='password_guess',
                max_length=20,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='attempt',
            name='client_ip',
            field=models.GenericIPAddressField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='attempt',
            index=models.Index(fields=['kind', 'user', 'at'], name='attempt_kind_user_at'),
        ),
        migrations.AddIndex(
            model_name='attempt',
            index=models.Index(fields=['kind', 'client_ip', 'at'], name='attempt_kind_ip_at'),
        ),
    ]
