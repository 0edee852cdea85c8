"""The import wizard's pages: upload (with the list of past imports), mapping with a
preview, the run's progress (polled by htmx) and the result with undo and error rows."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontor.core import modules, types
from kontor.core.access import Action, may
from kontor.core.errors import KontorError, NotFound
from kontor.core.inputs import as_db_id

from . import jobs, mapping, services, templates
from .models import ImportJob
from .reading import DELIMITERS, ENCODINGS


def importable_types(user) -> list:
    return [
        t
        for t in types.record_types()
        if may(user, t.object_type, Action.CREATE) and modules.type_enabled(user, t.object_type)
    ]


def may_import(user) -> bool:
    return user.is_authenticated and bool(importable_types(user))


def _job(request, pk) -> ImportJob:
    try:
        return jobs.job_for(request.user, pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request):
    user = request.user
    offered = importable_types(user)
    if not offered:
        raise DjangoPermissionDenied
    error = ""
    offered_templates = [
        t for t in templates.visible(user) if t.object_type in {rt.object_type for rt in offered}
    ]
    if request.method == "POST":
        # A template brings its record type, mapping, reading and options.
        template = next(
            (t for t in offered_templates if str(t.pk) == request.POST.get("template")), None
        )
        type_name = template.object_type if template else request.POST.get("type")
        chosen = next((t for t in offered if t.object_type == type_name), None)
        upload = request.FILES.get("file")
        given = {key: request.POST.get(key, "") for key in templates.READING_KEYS}
        reading = templates.reading_with(template, given)
        if chosen is None or upload is None:
            error = _("Choose a file and what its rows are.")
        else:
            try:
                job = jobs.upload(upload, chosen, actor=user, reading=reading, template=template)
            except KontorError as exc:
                error = str(exc.message)
            else:
                page = reverse("imports:detail", args=[job.pk])
                return redirect(f"{page}?template={template.pk}" if template else page)
    return render(
        request,
        "imports/list.html",
        {
            "jobs": ImportJob.objects.visible_to(user).select_related("created_by")[:100],
            "offered": offered,
            "templates": [(t, types.label_of(t.object_type)) for t in offered_templates],
            "encodings": ENCODINGS,
            "delimiters": [
                ("\t" if d == "\t" else d, "Tab" if d == "\t" else d) for d in DELIMITERS
            ],
            "error": error,
            "posted": request.POST,
        },
    )


def _form_columns(request, headers: list[str]) -> dict:
    return {h: request.POST.get(f"column_{i}", "") for i, h in enumerate(headers)}


def _form_options(request) -> dict:
    return {
        "match_on": request.POST.getlist("match_on"),
        "on_match": request.POST.get("on_match", services.OnMatch.SKIP),
        "create_links": request.POST.get("create_links") == "on",
        "day_first": request.POST.get("day_first") == "on",
    }


@login_required
@require_http_methods(["GET", "POST"])
def import_detail(request, pk):
    job = _job(request, pk)
    if job.state != ImportJob.State.DRAFT:
        return _result(request, job)
    record_type = types.get(job.object_type)
    headers = jobs.headers_of(job)
    columns, options = job.mapping, {"on_match": services.OnMatch.SKIP, "create_links": True,
                                     "day_first": True, "match_on": []}  # fmt: skip
    if request.method == "GET" and request.GET.get("template"):
        # Uploaded with a template (its mapping is the draft's): its options too.
        found = templates.visible(request.user, job.object_type).filter(
            pk=as_db_id(request.GET["template"])
        )
        options = {**options, **(found[0].options if found else {})}
    outcome, error = None, ""
    available = mapping.targets(record_type, request.user)
    if request.method == "POST":
        columns, options = _form_columns(request, headers), _form_options(request)
        action = request.POST.get("action")
        try:
            if action == "run":
                jobs.start(job, actor=request.user, columns=columns, options=options)
                return redirect("imports:detail", job.pk)
            if action == "apply_template":
                template = templates.template_for(request.user, request.POST.get("template"))
                columns = templates.columns_for(template, headers, available)
                options = {**options, **template.options}
            elif action == "save_template":
                _save_template(request, job, columns, options)
            else:
                outcome = jobs.preview(job, actor=request.user, columns=columns, options=options)
        except KontorError as exc:
            error = _error_text(exc)
    try:
        chosen = mapping.Mapping.by_headers(columns, headers, available)
        keys = services.match_keys(record_type, chosen)
    except mapping.CellError:
        keys = []
    return render(
        request,
        "imports/mapping.html",
        {
            "job": job,
            "record_type": record_type,
            "rows": [(i, h, columns.get(h, "")) for i, h in enumerate(headers)],
            "targets": available,
            "match_keys": keys,
            "options": options,
            "on_match_choices": [
                (services.OnMatch.SKIP, _("skip the row")),
                (services.OnMatch.FILL, _("fill the record's empty fields")),
                (services.OnMatch.OVERWRITE, _("overwrite the record's fields")),
                (services.OnMatch.CREATE, _("create a new record anyway")),
            ],
            "templates": templates.visible(request.user, job.object_type),
            "template_name": request.POST.get("template_name", ""),
            "outcome": outcome,
            "problems": [
                (p.line, p.column, p.message) for p in outcome.problems[: jobs.PROBLEMS_SHOWN]
            ]
            if outcome
            else [],
            "error": error,
        },
    )


def _error_text(exc: KontorError) -> str:
    """A refusal as one line: its field messages, or its message."""
    if not exc.errors:
        return str(exc.message)
    return " ".join(message for messages in exc.errors.values() for message in messages)


def _save_template(request, job: ImportJob, columns: dict, options: dict) -> None:
    """ "Save as template": the mapping on the page, the file's reading, the options."""
    data = {
        "name": request.POST.get("template_name", ""),
        "object_type": job.object_type,
        "mapping": columns,
        "reading": job.reading,
        "options": options,
    }
    if request.POST.get("template_shared") == "on":
        data["shared"] = True
    template, new = templates.save(data, actor=request.user)
    message = _("Template saved: %(name)s.") if new else _("Template updated: %(name)s.")
    messages.success(request, message % {"name": template.name})


@login_required
@require_http_methods(["GET", "POST"])
def template_list(request):
    """The import templates the user sees; theirs (an administrator: all) renamed,
    shared or made personal, deleted."""
    if not may_import(request.user):
        raise DjangoPermissionDenied
    if request.method == "POST":
        template = _template(request, request.POST.get("template"))
        try:
            if request.POST.get("action") == "delete":
                templates.delete(template, actor=request.user)
                messages.success(request, _("Template deleted: %(name)s.") % {"name": template})
            else:
                changes = {"name": request.POST.get("name", ""),
                           "shared": request.POST.get("shared") == "on"}  # fmt: skip
                saved = templates.update(template, changes, actor=request.user)
                messages.success(request, _("Template saved: %(name)s.") % {"name": saved})
        except KontorError as exc:
            messages.error(request, _error_text(exc))
        return redirect("imports:templates")
    found = templates.visible(request.user)
    return render(
        request,
        "imports/templates.html",
        {
            "rows": [
                (
                    t,
                    types.label_of(t.object_type),
                    sum(1 for key in t.mapping.values() if key),
                    templates.may_change(request.user, t),
                )
                for t in found
            ]
        },
    )


def _template(request, pk):
    try:
        return templates.template_for(request.user, pk)
    except NotFound:
        raise Http404 from None


def _result(request, job: ImportJob):
    running = job.state in (ImportJob.State.WAITING, ImportJob.State.RUNNING)
    context = {
        "job": job,
        "running": running,
        "label": types.label_of(job.object_type),
        "problems": jobs.shown_problems(job),
        "may_undo": jobs.may_undo(request.user, job),
    }
    if request.htmx and running:
        return render(request, "imports/_progress.html", context)
    if request.htmx:
        # Finished while polled: the whole page, with its result.
        response = HttpResponse()
        response["HX-Refresh"] = "true"
        return response
    return render(request, "imports/result.html", context)


@login_required
def import_errors(request, pk):
    job = _job(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    jobs.write_error_file(job, response)
    return response


@login_required
@require_POST
def import_undo(request, pk):
    job = _job(request, pk)
    try:
        counts = jobs.undo(job, actor=request.user)
    except KontorError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("Undone: %(deleted)d removed, %(restored)d restored, %(left)d left.") % counts,
        )
    return redirect("imports:detail", job.pk)
