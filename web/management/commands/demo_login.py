import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create (or reset) a staff login for the demo and print it with an API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default=None, help="default: a new random one")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or secrets.token_urlsafe(9)
        user, _ = get_user_model().objects.get_or_create(username=options["username"])
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "  segrec demo login",
                    "  site:     http://127.0.0.1:8000/   (admin: /admin/, API: /api/schema)",
                    f"  username: {user.get_username()}",
                    f"  password: {password}",
                    f"  token:    {token.key}   (curl -H 'Authorization: Token {token.key}' ...)",
                    "",
                ]
            )
        )
