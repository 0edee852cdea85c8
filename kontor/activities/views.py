"""The notifications page, the bell's count and opening a notification."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import notifications

PAGE_SIZE = 50


@login_required
def notification_list(request):
    page = Paginator(notifications.inbox(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "activities/notifications.html", {"page": page})


@login_required
def open_notification(request, pk: int):
    """Mark it read and go to its record (or back to the list if the record is gone)."""
    notification = get_object_or_404(notifications.inbox(request.user), pk=pk)
    notifications.mark_read(request.user, [notification.pk])
    return redirect(
        notifications.target_url(notification, request.user) or "activities:notifications"
    )


@require_POST
@login_required
def mark_all_read(request):
    notifications.mark_read(request.user)
    return redirect("activities:notifications")
