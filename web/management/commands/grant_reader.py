from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Q

from web.access import READER_PERMISSIONS, READERS_GROUP


def readers_group() -> Group:
    """The group holding exactly the read permissions of web.access, created on first use."""
    group, _ = Group.objects.get_or_create(name=READERS_GROUP)
    wanted = Q()
    for name in READER_PERMISSIONS:
        app_label, codename = name.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(wanted))
    return group


class Command(BaseCommand):
    help = (
        f"Let users read members, segments and runs (pages and API): adds them to the "
        f"'{READERS_GROUP}' group ({', '.join(READER_PERMISSIONS)})."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("usernames", nargs="+")
        parser.add_argument("--revoke", action="store_true", help="remove them from the group")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects.filter(username__in=options["usernames"])
        missing = sorted(set(options["usernames"]) - {u.get_username() for u in users})
        if missing:
            raise CommandError(f"unknown user(s): {', '.join(missing)}")
        group = readers_group()
        for user in users:
            if options["revoke"]:
                user.groups.remove(group)
            else:
                user.groups.add(group)
        verb = "removed from" if options["revoke"] else "added to"
        self.stdout.write(f"{len(users)} user(s) {verb} the '{READERS_GROUP}' group")
