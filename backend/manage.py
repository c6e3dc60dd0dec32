"""Operator commands: `python -m backend.manage create-admin|promote …` (from the repo root)."""

import argparse
import getpass
import sys
from functools import partial

from pydantic import ValidationError

from backend.core import security
from backend.core.config import Settings, get_settings
from backend.core.errors import AppError, InvalidInput
from backend.database.session import Database, build_engine
from backend.models import ROLE_ADMIN
from backend.schemas.users import UserCreate
from backend.services import auth as auth_service
from backend.services import users as user_service


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != first:
        raise SystemExit("error: the passwords do not match")
    return first


def create_admin(db: Database, args: argparse.Namespace) -> str:
    """Create a new account with the admin role."""
    password = _read_password(args.password_stdin)
    data = UserCreate(
        username=args.username,
        email=args.email,
        first_name=args.first_name or args.username,
        last_name=args.last_name or "Admin",
        password=password,
    )
    auth_service.check_password_policy(password, username=data.username, email=str(data.email))
    hashed = security.hash_password(password)
    db.call(partial(user_service.create, data=data, hashed_password=hashed, role=ROLE_ADMIN), write=True)
    return f"Created admin {data.username!r}."


def promote(db: Database, args: argparse.Namespace) -> str:
    """Give an existing user the admin role."""
    db.call(partial(user_service.promote, username=args.username), write=True)
    return f"{args.username!r} is now an admin."


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m backend.manage", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="create an admin account")
    create.add_argument("--username", required=True)
    create.add_argument("--email", required=True)
    create.add_argument("--first-name")
    create.add_argument("--last-name")
    create.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    create.set_defaults(handler=create_admin)
    prom = commands.add_parser("promote", help="make an existing user an admin")
    prom.add_argument("username")
    prom.set_defaults(handler=promote)
    return parser


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    """Run one command; 1 with a clear message when it cannot be done."""
    args = _parser().parse_args(argv)
    settings = settings or get_settings()
    db = Database(build_engine(settings), settings)
    try:
        print(args.handler(db, args))
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            print(f"error: {field}: {error['msg']}", file=sys.stderr)
        return 1
    except InvalidInput as exc:
        for item in exc.errors:
            print(f"error: password: {item['msg']}", file=sys.stderr)
        return 1
    except AppError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
