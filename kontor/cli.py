"""The ``kontor`` command: serve, worker, events, demo, import, createuser, token, check,
backup, restore, and Django's."""

from __future__ import annotations

import argparse
import os
import sys

# Messages are translated only after ``_setup_django``; the help texts stay English.
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


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
    if not args.no_dispatcher:
        # Read by kontor.asgi in each server process: one event dispatcher per process,
        # sharing the outbox safely because every delivery is claimed.
        os.environ[DISPATCHER_ENV] = "1"
    url = f"http://{args.host}:{args.port}/"
    print(_("Kontor is running at %(url)s (Ctrl+C to stop)") % {"url": url}, flush=True)
    uvicorn.run(
        "kontor.asgi:application",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        lifespan="off",
        # Open pages hold event streams for minutes: a stop waits this long for them,
        # then ends them (each browser opens a new one against the next server).
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    return 0


DISPATCHER_ENV = "KONTOR_SERVE_DISPATCHER"
SHUTDOWN_GRACE_SECONDS = 5


def cmd_worker(args) -> int:
    import signal
    import threading

    from kontor.core import events, jobs

    if args.once:
        ran = events.run_pass()
        if jobs.uses_rq():
            jobs.rq_worker().work(burst=True, logging_level="WARNING")
        print(ngettext("%(count)d delivery run", "%(count)d deliveries run", ran) % {"count": ran})
        return 0
    stop = threading.Event()

    def finish(_signum, _frame):
        # The delivery under way completes; the next one waits for the next worker.
        stop.set()
        events.nudge()

    # Before the banner: a stop asked as soon as the worker says it runs is a stop.
    signal.signal(signal.SIGTERM, finish)
    print(_("Kontor worker delivering events (Ctrl+C to stop)"), flush=True)
    if jobs.uses_rq():
        # The dispatcher (events, claiming due timers for RQ) in a thread; the RQ worker
        # in the main thread, where it takes over SIGTERM (the job under way completes).
        dispatcher = threading.Thread(
            target=events.run_dispatcher, args=(stop,), name="kontor-events", daemon=True
        )
        dispatcher.start()
        try:
            jobs.rq_worker(stop_asked=stop).work(logging_level="WARNING")
        finally:
            stop.set()
            events.nudge()
            dispatcher.join(timeout=SHUTDOWN_GRACE_SECONDS)
        return 0
    events.run_dispatcher(stop)
    return 0


def cmd_events_list(args) -> int:
    from kontor.core import events
    from kontor.core.access import SYSTEM

    rows = events.deliveries(SYSTEM, args.status)[: args.limit]
    for delivery in rows:
        error = delivery.last_error.strip().splitlines()[-1:] or [""]
        print(
            f"{delivery.pk}\t{delivery.event.type}\t{delivery.handler}\t"
            f"{delivery.attempts}\t{delivery.due_at:%Y-%m-%d %H:%M:%S}\t{error[0]}"
        )
    return 0


def cmd_events_retry(args) -> int:
    from kontor.core import events
    from kontor.core.access import SYSTEM
    from kontor.core.context import Channel, acting

    with acting(Channel.SYSTEM):
        count = events.retry(SYSTEM, args.ids or None)
    print(
        ngettext(
            "%(count)d delivery will be retried", "%(count)d deliveries will be retried", count
        )
        % {"count": count}
    )
    return 0


def cmd_events_purge(args) -> int:
    from kontor.core import events

    count = events.purge_delivered(keep_days=args.days)
    print(
        ngettext("%(count)d delivered event removed", "%(count)d delivered events removed", count)
        % {"count": count}
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


def cmd_import(args) -> int:
    import json

    from django.core.files import File

    from kontor.accounts.models import User
    from kontor.core import types
    from kontor.core.errors import NotFound, ValidationFailed
    from kontor.imports import jobs, mapping, services, templates
    from kontor.imports.reading import ReadError, open_table

    user = User.objects.filter(email__iexact=args.user.strip(), is_active=True).first()
    if user is None:
        raise NotFound(_("There is no user with the email %(email)s.") % {"email": args.user})

    def progress(outcome):
        print(services.summary(outcome), flush=True)

    if args.resume:
        return _import_finished(jobs.run(jobs.job_for(user, args.resume), progress=progress), args)
    if not args.path or not args.type:
        raise ValidationFailed(_("Give a file and its record type (--type), or --resume."))
    record_type = types.record_type_named(args.type)
    template = None
    if args.template:
        template = templates.named(user, record_type.object_type, args.template)
    reading = templates.reading_with(
        template, {"encoding": args.encoding, "delimiter": args.delimiter, "sheet": args.sheet}
    )
    options = templates.options_with(
        template,
        {
            "match_on": [k for k in args.match.split(",") if k] if args.match is not None else None,
            "on_match": args.on_match,
            "create_links": False if args.no_create_links else None,
            "day_first": args.dates == "dmy" if args.dates else None,
        },
    )
    if args.batch_size is not None:
        options["batch_size"] = args.batch_size
    try:
        with open(args.path, "rb") as file:
            table = open_table(file, **reading)
            available = mapping.targets(record_type, user)
            if args.mapping:
                with open(args.mapping, encoding="utf-8") as saved:
                    columns = json.load(saved)
            else:
                keys = (
                    mapping.apply_saved(template.mapping, table.headers, available)
                    if template
                    else mapping.suggest(table.headers, available)
                )
                columns = mapping.Mapping.of(keys, available).saved(table.headers)
            if args.save_mapping:
                with open(args.save_mapping, "w", encoding="utf-8") as out:
                    json.dump(columns, out, ensure_ascii=False, indent=2)
            if args.save_template:
                saved_template, _new = templates.save(
                    {
                        "name": args.save_template,
                        "object_type": record_type.object_type,
                        "mapping": columns,
                        "reading": reading,
                        "options": {k: v for k, v in options.items() if k != "batch_size"},
                    },
                    actor=user,
                )
                print(_("Template saved: %(name)s.") % {"name": saved_template.name})
            file.seek(0)
            if args.dry_run:
                table, chosen, run_options = jobs.prepare(
                    file, record_type, actor=user, columns=columns, reading=reading,
                    options=options,
                )  # fmt: skip
                outcome = services.run_import(
                    table, chosen, record_type, actor=user, options=run_options, dry_run=True,
                    progress=progress,
                )  # fmt: skip
            else:
                job = jobs.start_import(
                    File(file, name=os.path.basename(args.path)), record_type, actor=user,
                    columns=columns, reading=reading, options=options, background=False,
                )  # fmt: skip
    except (ReadError, mapping.CellError, OSError, ValueError) as exc:
        raise ValidationFailed(str(exc)) from None
    if not args.dry_run:
        print(_("Import %(id)d: %(file)s") % {"id": job.pk, "file": job.file_name}, flush=True)
        return _import_finished(jobs.run(job, progress=progress), args)
    _print_problems(outcome.problems, args)
    print(_("Dry run: nothing was written."))
    return 0 if not outcome.failed else 1


def _import_finished(job, args) -> int:
    from kontor.imports import jobs, services

    if job.state not in (job.State.DONE, job.State.FAILED):
        print(
            _("Import %(id)d is %(state)s elsewhere.")
            % {"id": job.pk, "state": job.get_state_display()}
        )
        return 1
    if job.message:
        print(job.message)
    _print_problems([services.Problem(*p) for p in jobs.shown_problems(job)], args)
    if args.errors and job.failed:
        with open(args.errors, "w", newline="", encoding="utf-8") as out:
            jobs.write_error_file(job, out)
    return 0 if job.state == job.State.DONE and not job.failed else 1


def _print_problems(problems, args) -> None:
    for problem in problems[: args.show_errors]:
        column = f" [{problem.column}]" if problem.column else ""
        print(_("line %(line)d%(column)s: %(message)s") % {
            "line": problem.line, "column": column, "message": problem.message
        })  # fmt: skip


def cmd_createuser(args) -> int:
    from django.db import transaction

    from kontor.accounts import services
    from kontor.core.access import SYSTEM
    from kontor.core.context import Channel, acting

    # One transaction: a refused user must not leave a freshly created department behind.
    with acting(Channel.SYSTEM), transaction.atomic():
        roles = [services.role_named(name) for name in args.role or []]
        department = (
            services.ensure_department(args.department, actor=SYSTEM) if args.department else None
        )
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
    print(_("Created user %(email)s") % {"email": user.email})
    return 0


def cmd_token_create(args) -> int:
    from kontor.accounts import services
    from kontor.accounts.models import User
    from kontor.core.access import SYSTEM
    from kontor.core.errors import NotFound

    user = User.objects.filter(email__iexact=args.user.strip()).first()
    if user is None:
        raise NotFound(_("There is no user with the email %(email)s.") % {"email": args.user})
    print(services.issue_token(user, name=args.name or "", actor=SYSTEM))
    return 0


def cmd_check(args) -> int:
    from django.core import checks
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    problems = []
    try:
        connection.ensure_connection()
        vendor = connection.vendor
        name = connection.settings_dict["NAME"]
        print(
            "ok   "
            + _("database reachable (%(vendor)s: %(name)s)") % {"vendor": vendor, "name": name}
        )
    except Exception as exc:  # any driver error is the finding itself
        print("FAIL " + _("database unreachable: %(error)s") % {"error": _one_line(exc)})
        return 1
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        problems.append(
            ngettext(
                "%(count)d migration not applied (run: kontor migrate)",
                "%(count)d migrations not applied (run: kontor migrate)",
                len(pending),
            )
            % {"count": len(pending)}
        )
        print(f"FAIL {problems[-1]}")
    else:
        print("ok   " + _("migrations applied"))
    serious = [m for m in checks.run_checks() if m.is_serious()]
    if serious:
        problems.extend(str(m) for m in serious)
        print(
            "FAIL "
            + _("Django system checks: %(problems)s")
            % {"problems": "; ".join(str(m) for m in serious)}
        )
    else:
        print("ok   " + _("Django system checks"))
    return 1 if problems else 0


def cmd_backup(args) -> int:
    from kontor.backups import archive

    manifest = archive.write_backup(args.path)
    rows = sum(t["rows"] for t in manifest["tables"])
    print(
        _("Backup written to %(path)s: %(tables)d tables, %(rows)d rows, %(files)d files")
        % {
            "path": args.path,
            "tables": len(manifest["tables"]),
            "rows": rows,
            "files": len(manifest["files"]),
        }
    )
    return 0


def cmd_restore(args) -> int:
    from django.db import connection

    from kontor.backups import archive

    report = archive.restore_backup(args.path)
    print(
        _(
            "Restored into %(vendor)s (%(name)s) and checked against the backup: "
            "%(tables)d tables, %(rows)d rows, %(files)d files"
        )
        % {
            "vendor": connection.vendor,
            "name": connection.settings_dict["NAME"],
            "tables": len(report.tables),
            "rows": report.rows,
            "files": report.files,
        }
    )
    return 0


def _one_line(exc: Exception) -> str:
    """Driver errors span several lines; a CLI error is one."""
    return " ".join(str(exc).split())


def cmd_django(args) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line([args.prog, args.django_command, *args.django_args])
    return 0


def _command(subparsers, name: str, text: str) -> argparse.ArgumentParser:
    """A subcommand whose one-line text shows both in `kontor --help` and in its own --help."""
    return subparsers.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kontor",
        description="Kontor: CRM + ERP + BPM. Configuration comes from environment "
        "variables (DATABASE_URL, KONTOR_*), see the README.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    serve = _command(sub, "serve", "apply migrations and run the web server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.add_argument(
        "--no-dispatcher",
        action="store_true",
        help="deliver no events, fire no timers, run no jobs here (`kontor worker` does)",
    )
    serve.set_defaults(func=cmd_serve)

    worker = _command(
        sub, "worker", "deliver domain events, fire timers and run background jobs until stopped"
    )
    worker.add_argument(
        "--once",
        action="store_true",
        help="run what is due (event deliveries, timers, background jobs), then exit",
    )
    worker.set_defaults(func=cmd_worker)

    events = _command(sub, "events", "see and retry event deliveries")
    events_sub = events.add_subparsers(dest="events_command", metavar="ACTION")
    events_sub.required = True
    events_list = _command(
        events_sub, "list", "list deliveries: id, event, handler, attempts, due, last error"
    )
    events_list.add_argument(
        "--status", choices=["failed", "pending"], default="failed", help="default: failed"
    )
    events_list.add_argument("--limit", type=int, default=100, help="at most (default 100)")
    events_list.set_defaults(func=cmd_events_list)
    events_retry = _command(events_sub, "retry", "run failed deliveries again, now")
    events_retry.add_argument(
        "ids",
        nargs="*",
        type=int,
        metavar="ID",
        help="these deliveries (default: every failed one)",
    )
    events_retry.set_defaults(func=cmd_events_retry)
    events_purge = _command(
        events_sub, "purge", "remove events whose deliveries are all done, older than N days"
    )
    events_purge.add_argument(
        "--days", type=float, default=None, help="default: KONTOR_EVENTS_KEEP_DAYS (30)"
    )
    events_purge.set_defaults(func=cmd_events_purge)

    demo = _command(sub, "demo", "load the demo company B. Company (idempotent)")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.set_defaults(func=cmd_demo)

    imp = _command(sub, "import", "import a CSV or Excel file as records of one type")
    imp.add_argument("path", nargs="?", help="a .csv, .xlsx, .xls or .ods file")
    imp.add_argument("--type", help="the record type: people, companies, ...")
    imp.add_argument("--user", required=True, help="the email of the user importing")
    imp.add_argument("--mapping", help="a saved mapping: JSON of column header -> field")
    imp.add_argument("--save-mapping", help="write the mapping used to this JSON file")
    imp.add_argument(
        "--template", metavar="NAME", help="apply an import template (yours, or a shared one)"
    )
    imp.add_argument(
        "--save-template", metavar="NAME", help="save the mapping and options as your template"
    )
    imp.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    imp.add_argument("--encoding", default="", help="utf-8, utf-8-sig, cp1251, latin-1, utf-16")
    imp.add_argument("--delimiter", default="", help="a CSV's delimiter (default: detected)")
    imp.add_argument("--sheet", default="", help="a workbook's sheet (default: the first)")
    imp.add_argument("--dates", choices=["dmy", "mdy"], help="31/12 (default) or 12/31")
    imp.add_argument("--match", help="match existing records on: email,phone or a field")
    imp.add_argument(
        "--on-match", choices=["skip", "fill", "overwrite", "create"], help="default: skip"
    )
    imp.add_argument(
        "--no-create-links", action="store_true", help="do not create a row's missing company"
    )
    imp.add_argument("--errors", help="write the rows not imported to this CSV file")
    imp.add_argument("--show-errors", type=int, default=20, help="errors to print")
    imp.add_argument("--batch-size", type=int, help="rows written per transaction")
    imp.add_argument(
        "--resume", type=int, metavar="ID", help="go on with an import whose run was cut short"
    )
    imp.set_defaults(func=cmd_import)

    createuser = _command(sub, "createuser", "create a user who logs in by email")
    createuser.add_argument("--email", required=True, help="the email the user logs in with")
    createuser.add_argument(
        "--password", required=True, help="at least 8 characters, not a common one"
    )
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

    token = _command(sub, "token", "manage API tokens")
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION")
    token_sub.required = True
    token_create = _command(token_sub, "create", "create a token and print only the token")
    token_create.add_argument(
        "--user", required=True, metavar="EMAIL", help="the token acts as this user"
    )
    token_create.add_argument("--name", help="what the token is for")
    token_create.set_defaults(func=cmd_token_create)

    check = _command(sub, "check", "self-diagnosis: database reachable, migrations applied")
    check.set_defaults(func=cmd_check)

    backup = _command(
        sub, "backup", "write every table and stored file into one archive, while users work"
    )
    backup.add_argument("path", metavar="PATH", help="the archive to write (a .zip file)")
    backup.set_defaults(func=cmd_backup)

    restore = _command(
        sub, "restore", "rebuild an archive into the empty database DATABASE_URL names"
    )
    restore.add_argument("path", metavar="PATH", help="an archive `kontor backup` wrote")
    restore.set_defaults(func=cmd_restore)

    # Listed here for `kontor --help`; main() hands their arguments to Django untouched.
    for name, text in DJANGO_COMMANDS.items():
        sub.add_parser(name, help=text)
    return parser


DJANGO_COMMANDS = {
    "migrate": "apply database migrations",
    "makemigrations": "(developers) create migrations",
    "shell": "Python shell with Kontor loaded",
    "manage": "run any Django management command: kontor manage COMMAND ...",
}


def _django_args(argv: list[str]) -> argparse.Namespace | None:
    """The Django command to run for ``argv``, or None when argv is one of Kontor's own."""
    if not argv or argv[0] not in DJANGO_COMMANDS:
        return None
    command, rest, prog = argv[0], argv[1:], "kontor"
    if command == "manage":
        prog = "kontor manage"
        if not rest or rest[0] in {"-h", "--help"}:
            print(f"usage: {prog} COMMAND [ARGS ...]\n\nRun any Django management command.")
            rest = ["help"]
        command, rest = rest[0], rest[1:]
    return argparse.Namespace(func=cmd_django, prog=prog, django_command=command, django_args=rest)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # argparse would take Django's options (migrate --noinput, shell -c) for Kontor's own.
    args = _django_args(argv) or build_parser().parse_args(argv)
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
        print(f"kontor: database error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
