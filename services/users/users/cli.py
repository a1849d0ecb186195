"""Command-line tools: `users-keys` (the signing-key ring) and `users-admin` (accounts).

    users-keys rotate --dir D [--stage]     add a key; make it active unless --stage
    users-keys activate --dir D --kid K     make a staged key the signing key
    users-keys retire --dir D --kid K       remove a key that no longer signs
    users-keys list --dir D                 kids, creation times, which one is active
    users-keys jwks --dir D                 the JWKS the service would publish

    users-admin create --username X --email Y [--password-file F]
    users-admin set-role --username X --role admin|user

`users-admin` talks to Cassandra with the service's settings (USERS_* variables).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from kit import clock
from kit.cassandra import CassandraDB
from kit.migrations import migrate
from pydantic import ValidationError

from users import keys as keyring
from users.clients import ServiceClients
from users.config import UsersSettings
from users.errors import EmailTaken, UsernameTaken
from users.passwords import Passwords
from users.repository import MIGRATIONS, UsersRepository
from users.schemas import AssignableRole, RegisterIn
from users.service import UsersService
from users.tokens import TokenIssuer

# --- users-keys ------------------------------------------------------------------------------


def _keys_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="users-keys", description="Manage the signing keys.")
    commands = parser.add_subparsers(dest="command", required=True)
    rotate = commands.add_parser("rotate", help="add a new key and make it active")
    rotate.add_argument("--stage", action="store_true", help="publish it only, do not activate")
    rotate.add_argument("--kid", help="key id (default: creation time + random)")
    activate = commands.add_parser("activate", help="make an existing key the signing key")
    activate.add_argument("--kid", required=True)
    retire = commands.add_parser("retire", help="remove a key that no longer signs")
    retire.add_argument("--kid", required=True)
    commands.add_parser("list", help="show the keys")
    commands.add_parser("jwks", help="print the public JWKS")
    for sub in commands.choices.values():
        sub.add_argument("--dir", type=Path, required=True, help="the key ring directory")
    return parser


def keys_main(argv: Sequence[str] | None = None) -> int:
    args = _keys_parser().parse_args(argv)
    directory: Path = args.dir
    files = keyring.read_ring_files(directory)
    try:
        if args.command == "rotate":
            updated, kid = keyring.rotate(files, activate=not args.stage, kid=args.kid)
            keyring.write_ring(directory, updated)
            state = "staged" if keyring.active_kid(updated) != kid else "active"
            print(f"{kid} ({state})")
        elif args.command == "activate":
            keyring.write_ring(directory, keyring.activate(files, args.kid))
            print(f"{args.kid} (active)")
        elif args.command == "retire":
            keyring.write_ring(directory, keyring.retire(files, args.kid), remove_missing=True)
            print(f"{args.kid} (removed)")
        elif args.command == "list":
            active = keyring.active_kid(files)
            for kid in keyring.kids(files):
                created = keyring.kid_created_at(kid)
                mark = "active" if kid == active else ""
                print(f"{kid}\t{created.isoformat() if created else '-'}\t{mark}".rstrip())
        elif args.command == "jwks":
            print(json.dumps(keyring.parse_ring(files).jwks(), indent=2))
    except keyring.KeyRingError as exc:
        print(f"users-keys: {exc}", file=sys.stderr)
        return 1
    return 0


# --- users-admin -----------------------------------------------------------------------------


def _admin_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="users-admin", description="Manage accounts.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create an administrator")
    create.add_argument("--username", required=True)
    create.add_argument("--email", required=True)
    create.add_argument(
        "--password-file", type=Path, help="read the password from a file (default: prompt)"
    )
    set_role = commands.add_parser("set-role", help="change an account's role")
    set_role.add_argument("--username", required=True)
    set_role.add_argument(
        "--role", choices=list(AssignableRole), type=AssignableRole, required=True
    )
    return parser


def _read_password(path: Path | None) -> str:
    if path is not None:
        return path.read_text().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise SystemExit("users-admin: the passwords differ")
    return first


async def _admin(args: argparse.Namespace, settings: UsersSettings) -> int:
    db = CassandraDB(settings)
    await db.connect_async()
    passwords: Passwords | None = None
    try:
        await migrate(db, MIGRATIONS)
        passwords = Passwords(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
        )
        # Account commands never sign tokens: the issuer's ring is never loaded.
        issuer = TokenIssuer(
            keyring.KeyRingSource(settings.signing_keys_dir),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
        service = UsersService(UsersRepository(db), passwords, issuer, ServiceClients(), settings)
        if args.command == "create":
            data = RegisterIn(
                username=args.username,
                email=args.email,
                password=_read_password(args.password_file),
            )
            user = await service.register(data, role=AssignableRole.ADMIN)
            print(f"created administrator {user.username} ({user.id})")
            return 0
        user_row = await service.find_by_username(args.username)
        if user_row is None:
            print(f"users-admin: no user {args.username!r}", file=sys.stderr)
            return 1
        await service.repo.set_role(user_row.id, args.role, clock.now())
        print(f"{user_row.username} is now {args.role}")
        return 0
    finally:
        if passwords is not None:
            passwords.close()
        db.close()


def admin_main(argv: Sequence[str] | None = None) -> int:
    args = _admin_parser().parse_args(argv)
    try:
        return asyncio.run(_admin(args, UsersSettings()))
    except (UsernameTaken, EmailTaken) as exc:
        print(f"users-admin: {exc.detail}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        print(f"users-admin: invalid input:\n{exc}", file=sys.stderr)
        return 2
