"""A task's reminder: a timer that becomes the assignee's notification, then a mail if
left unseen; moved, cancelled and deleted with the task."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from kontor.activities import notifications, reminders, services
from kontor.activities.models import Notification
from kontor.core import events, timers
from kontor.core.models import Timer

from ..utils.clients import Api

pytestmark = pytest.mark.django_db


def reminder_timer(task):
    return Timer.objects.filter(
        kind=reminders.TASK_REMINDER, object_type="activities.task", object_id=task.pk
    ).first()


def a_minute_ago():
    return timezone.now() - timedelta(minutes=1)


def test_a_due_reminder_becomes_the_assignees_notification_once(client, org):
    task = services.create_task(
        {"title": "Call Petrov", "remind_at": a_minute_ago(), "owner_id": org.member_b.pk},
        actor=org.sales_head,
    )
    assert reminder_timer(task).due_at == task.remind_at

    assert timers.fire_due() == 1
    assert timers.fire_due() == 0
    (notice,) = Notification.objects.all()
    assert (notice.recipient, notice.kind, notice.title) == (
        org.member_b,
        "task.reminder",
        "Reminder: Call Petrov",
    )
    assert notifications.unread_count(org.member_b) == 1
    assert notifications.unread_count(org.member_a) == 0

    client.force_login(org.member_b)
    assert (
        'class="bell-count" aria-hidden="true">1<'
        in client.get(reverse("web:home")).content.decode()
    )
    listing = client.get(reverse("activities:notifications")).content.decode()
    assert "Reminder: Call Petrov" in listing and "unread" in listing
    opened = client.get(reverse("activities:notification_open", args=[notice.pk]))
    assert opened.status_code == 302 and opened.url == f"/tasks/{task.pk}/"
    assert notifications.unread_count(org.member_b) == 0

    # Someone else's notification does not exist for them.
    client.force_login(org.member_a)
    other = client.get(reverse("activities:notification_open", args=[notice.pk]))
    assert other.status_code == 404


def test_the_reminder_follows_the_task(org):
    later = timezone.now() + timedelta(days=1)
    task = services.create_task({"title": "Offer", "remind_at": later}, actor=org.member_a)
    task = services.update_task(task, {"remind_at": later + timedelta(hours=2)}, actor=org.member_a)
    timer = reminder_timer(task)
    assert timer.due_at == later + timedelta(hours=2) and timer.occurrence == 2

    # An edit that leaves the reminder alone leaves its timer alone.
    task = services.update_task(task, {"description": "With prices"}, actor=org.member_a)
    assert reminder_timer(task).occurrence == 2

    task = services.set_status(task, "done", actor=org.member_a)
    assert reminder_timer(task) is None
    task = services.set_status(task, "open", actor=org.member_a)
    assert reminder_timer(task).due_at == later + timedelta(hours=2)

    services.delete_task(task, actor=org.sales_head)
    assert not Timer.objects.exists()


def test_a_reminder_of_a_task_done_meanwhile_notifies_nobody(org):
    task = services.create_task({"title": "Offer", "remind_at": a_minute_ago()}, actor=org.member_a)
    # Completed by a path that leaves the timer (a bulk change, say): the handler checks.
    type(task).objects.filter(pk=task.pk).update(status="done")
    assert timers.fire_due() == 1
    assert not Notification.objects.exists()


def test_an_unseen_notification_is_mailed_once_and_a_read_one_not(org, settings):
    settings.KONTOR_PUBLIC_URL = "https://crm.example.com/"
    unseen = services.create_task(
        {"title": "Unseen", "remind_at": a_minute_ago()}, actor=org.member_a
    )
    seen = services.create_task({"title": "Seen", "remind_at": a_minute_ago()}, actor=org.member_a)
    assert timers.fire_due() == 2  # the reminders
    mail_timers = Timer.objects.filter(kind=notifications.EMAIL_TIMER)
    assert mail_timers.count() == 2 and timers.fire_due() == 0  # not yet: ten minutes
    notifications.mark_read(org.member_a, [Notification.objects.get(title="Reminder: Seen").pk])
    mail_timers.update(due_at=timezone.now())
    assert timers.fire_due() == 2
    events.deliver_pending()

    assert [(m.to, m.subject) for m in mail.outbox] == [(["anna@example.com"], "Reminder: Unseen")]
    assert f"https://crm.example.com/tasks/{unseen.pk}/" in mail.outbox[0].body
    assert Notification.objects.get(title="Reminder: Unseen").emailed_at is not None
    assert Notification.objects.get(title="Reminder: Seen").emailed_at is None
    assert seen.pk != unseen.pk


def test_notifications_through_the_api_are_your_own(org):
    services.create_task({"title": "Mine", "remind_at": a_minute_ago()}, actor=org.member_a)
    services.create_task({"title": "Boris's", "remind_at": a_minute_ago()}, actor=org.member_b)
    timers.fire_due()
    api = Api(org.member_a)
    page = api.get("/notifications?unread=true").json()
    assert [(n["title"], n["kind"]) for n in page["items"]] == [("Reminder: Mine", "task.reminder")]
    assert page["items"][0]["url"].startswith("/tasks/")
    assert api.post("/notifications/read", {}).json() == {"marked": 1}
    assert api.get("/notifications?unread=true").json()["count"] == 0
    assert notifications.unread_count(org.member_b) == 1


def test_a_reminder_time_from_the_form_is_the_readers_local_moment(client, org, settings):
    client.force_login(org.member_a)
    made = client.post(
        reverse("activities:task_create"),
        {
            "title": "Form reminder",
            "status": "open",
            "priority": "2",
            "remind_at": "2030-01-02T09:30",
        },
    )
    assert made.status_code == 302
    task = services.Task.objects.get(title="Form reminder")
    assert timezone.localtime(task.remind_at).strftime("%Y-%m-%d %H:%M") == "2030-01-02 09:30"
    edit = client.get(reverse("activities:task_edit", args=[task.pk])).content.decode()
    assert 'value="2030-01-02T09:30"' in edit
    bad = client.post(
        reverse("activities:task_create"),
        {"title": "Bad", "status": "open", "priority": "2", "remind_at": "soon"},
    )
    assert bad.status_code == 422 and "Enter a date and time." in bad.content.decode()


def test_a_notification_links_its_record_only_while_the_reader_may_see_it(client, org):
    hidden = services.create_task({"title": "Support's own"}, actor=org.support_member)
    notice = notifications.notify(org.member_a, "test", "About a hidden task", about=hidden)
    assert notifications.target_url(notice, org.member_a) == ""
    client.force_login(org.member_a)
    opened = client.get(reverse("activities:notification_open", args=[notice.pk]))
    assert opened.url == reverse("activities:notifications")
    assert notifications.target_url(notice, org.support_member) == f"/tasks/{hidden.pk}/"
