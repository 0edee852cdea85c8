"""The ``kontor`` command: serve, demo, createuser, token, check, and Django's own commands."""

from __future__ import annotations

import argparse
import os
import sys


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kontor.settings")
    import django

    django.setup()


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def cmd_serve(args) -> int:
    import uvicorn

    _migrate()
    print(f"Kontor is running at http://{args.host}:{args.port}/ (Ctrl+C to stop)", flush=True)
    uvicorn.run(
        "kontor.asgi:application",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        lifespan="off",
    )
    return 0


def cmd_demo(args) -> int:
    from kontor.demo import load_demo

    _migrate()
    summary = load_demo(progress=None if args.quiet else _print_progress)
    print(summary)
    return 0


def _print_progress(message: str) -> None:
    print(message, flush=True)


def cmd_createuser(args) -> int:
    from kontor.accounts import services
    from kontor.core.access import SYSTEM
    from kontor.core.context import Channel, acting

    with acting(Channel.SYSTEM):
        department = (
            services.ensure_department(args.department, actor=SYSTEM) if args.department else None
        )
        roles = [services.role_named(name) for name in args.role or []]
        user = services.create_user(
            email=args.email,
            password=args.password,
            first_name=args.first_name or "",
            last_name=args.last_name or "",
            department=department,
            roles=roles,
            is_superuser=args.superuser,
            actor=SYSTEM,
        )
    print(f"Created user {user.email}")
    return 0


def cmd_token_create(args) -> int:
    from kontor.accounts import services
    from kontor.accounts.models import User
    from kontor.core.access import SYSTEM
    from kontor.core.errors import NotFound

    user = User.objects.filter(email__iexact=args.user.strip()).first()
    if user is None:
        raise NotFound(f"There is no user with the email {args.user}.")
    print(services.issue_token(user, name=args.name or "", actor=SYSTEM))
    return 0


def cmd_check(args) -> int:
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    problems = []
    try:
        connection.ensure_connection()
        vendor = connection.vendor
        print(f"ok   database reachable ({vendor}: {connection.settings_dict['NAME']})")
    except Exception as exc:  # any driver error is the finding itself
        print(f"FAIL database unreachable: {exc}")
        return 1
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        problems.append(f"{len(pending)} migrations not applied (run: kontor migrate)")
        print(f"FAIL {problems[-1]}")
    else:
        print("ok   migrations applied")
    try:
        call_command("check", verbosity=0)
        print("ok   Django system checks")
    except Exception as exc:  # SystemCheckError carries the report
        problems.append(str(exc))
        print(f"FAIL Django system checks: {exc}")
    return 1 if problems else 0


def cmd_django(args) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kontor", args.django_command, *args.django_args])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kontor",
        description="Kontor: CRM + ERP + BPM. Configuration comes from environment "
        "variables (DATABASE_URL, KONTOR_*), see the README.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    serve = sub.add_parser("serve", help="apply migrations and run the web server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="load the demo company B. Company (idempotent)")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.set_defaults(func=cmd_demo)

    createuser = sub.add_parser("createuser", help="create a user who logs in by email")
    createuser.add_argument("--email", required=True)
    createuser.add_argument("--password", required=True)
    createuser.add_argument("--first-name")
    createuser.add_argument("--last-name")
    createuser.add_argument(
        "--department", metavar="NAME", help="department (created if it does not exist)"
    )
    createuser.add_argument(
        "--role", metavar="NAME", action="append", help="role to grant; repeat for several"
    )
    createuser.add_argument("--superuser", action="store_true", help="bypasses every scope")
    createuser.set_defaults(func=cmd_createuser)

    token = sub.add_parser("token", help="manage API tokens")
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION")
    token_sub.required = True
    token_create = token_sub.add_parser("create", help="create a token and print only the token")
    token_create.add_argument("--user", required=True, metavar="EMAIL")
    token_create.add_argument("--name", help="what the token is for")
    token_create.set_defaults(func=cmd_token_create)

    check = sub.add_parser("check", help="self-diagnosis: database reachable, migrations applied")
    check.set_defaults(func=cmd_check)

    for name, text in (
        ("migrate", "apply database migrations"),
        ("makemigrations", "(developers) create migrations"),
        ("shell", "Python shell with Kontor loaded"),
        ("manage", "run any Django management command: kontor manage COMMAND ..."),
    ):
        p = sub.add_parser(name, help=text, add_help=name != "manage")
        p.add_argument("django_args", nargs=argparse.REMAINDER)
        p.set_defaults(func=cmd_django, django_command=name)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "manage":
        if not args.django_args:
            print("kontor manage: name a Django command, e.g. kontor manage showmigrations")
            return 2
        args.django_command, args.django_args = args.django_args[0], args.django_args[1:]
    _setup_django()
    from django.db import DatabaseError

    from kontor.core.errors import KontorError

    try:
        return args.func(args)
    except KontorError as exc:
        details = "; ".join(f"{f}: {' '.join(m)}" for f, m in exc.errors.items())
        print(f"kontor: error: {exc.message}{' ' + details if details else ''}", file=sys.stderr)
        return 2
    except DatabaseError as exc:
        print(f"kontor: database error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
