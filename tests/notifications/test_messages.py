"""Confirmations, reminders and cancellations through GOV.UK Notify (issue 18, 1 to 3): queued
once with the booking's outcome, sent by the worker through Notify's real client to the
sandbox's stand-in, retried while Notify fails, and never in the way of a booking."""

import datetime

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from booking_site.booking.models import Booking
from booking_site.booking.tasks import send_reminder
from booking_site.gpconnect import use_transport
from booking_site.notifications import notify
from booking_site.notifications.models import Notification
from booking_site.notifications.tasks import (
    LEASE,
    RETRY_DELAYS,
    send_notifications,
    send_overdue,
)
from tests.booking.test_outcomes import PracticeBooksButReplyIsSpoilt
from tests.notify_stand_in import sent_messages, set_notify_failure

from .conftest import book, run_worker, signed_in, tomorrow_at

pytestmark = pytest.mark.django_db(transaction=True)


def later(monkeypatch, **delta) -> None:
    moved = timezone.now() + datetime.timedelta(**delta)
    monkeypatch.setattr(timezone, "now", lambda: moved)


def tasks_named(path: str) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=path).order_by("enqueued_at"))


def test_a_booking_the_practice_confirms_sends_one_confirmation_email(world):
    world.slots("A20047", tomorrow_at(9), 2)
    client = signed_in(world.patient)

    response = book(client, "9am", reason="Rash on my arm")
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert booking.status == Booking.Status.BOOKED
    [queued] = Notification.objects.all()
    assert (queued.kind, queued.channel, queued.status) == ("booking_confirmed", "email", "queued")

    run_worker()
    run_worker()

    [message] = sent_messages(to=world.patient.email)
    assert message.template_name == "booking_confirmed_email"
    text = message.subject + message.body
    assert "Riverside Medical Practice" in text
    assert "9am" in text
    day = timezone.localdate() + datetime.timedelta(days=1)
    assert f"{day:%A} {day.day} {day:%B %Y}" in text
    assert f"/appointments/{booking.pk}/" in text
    # Nothing clinical in an email others may read.
    assert "Rash" not in text
    queued.refresh_from_db()
    assert queued.status == Notification.Status.SENT
    assert queued.notify_id == str(message.id)


def test_a_text_message_goes_to_the_verified_mobile_when_chosen(world):
    world.patient.phone_number = "+447700900123"
    world.patient.phone_number_verified = True
    world.patient.contact_by = "sms"
    world.patient.save()
    world.slots("A20047", tomorrow_at(10), 1)

    book(signed_in(world.patient), "10am")
    run_worker()

    [message] = sent_messages()
    assert (message.type, message.recipient) == ("sms", "+447700900123")
    assert message.template_name == "booking_confirmed_sms"


def test_no_messages_for_a_patient_who_chose_none(world):
    world.patient.contact_by = "none"
    world.patient.save()
    world.slots("A20047", tomorrow_at(10), 1)

    book(signed_in(world.patient), "10am")
    run_worker()

    assert Booking.objects.get().status == Booking.Status.BOOKED
    assert not Notification.objects.exists()
    assert sent_messages() == []


def test_an_unverified_email_is_never_used(world):
    world.patient.email_verified = False
    world.patient.save()
    world.slots("A20047", tomorrow_at(10), 1)

    book(signed_in(world.patient), "10am")

    assert Booking.objects.get().status == Booking.Status.BOOKED
    assert not Notification.objects.exists()


def test_the_reminder_is_scheduled_for_the_day_before_and_sent_once(world, monkeypatch):
    start = tomorrow_at(11) + datetime.timedelta(days=2)
    world.slots("A20047", start, 1)
    client = signed_in(world.patient)
    book(client, "11am")
    booking = Booking.objects.get()
    [scheduled] = tasks_named("booking_site.booking.tasks.send_reminder")
    due = timezone.localtime(scheduled.run_after)
    assert due.date() == timezone.localdate(booking.start) - datetime.timedelta(days=1)
    assert (due.hour, due.minute) == (9, 0)

    # When its time comes, the task runs (and runs again)
    at_due = due + datetime.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: at_due)
    run_worker()
    assert send_reminder.call(booking.pk) != "reminder queued"
    run_worker()

    reminders = [m for m in sent_messages() if m.template_name == "reminder_email"]
    assert len(reminders) == 1
    assert "tomorrow" in (reminders[0].subject + reminders[0].body).lower()


def test_a_reminder_goes_only_the_day_before_the_time_the_practice_holds(world, monkeypatch):
    world.slots("A20047", tomorrow_at(9), 1)
    book(signed_in(world.patient), "9am")
    booking = Booking.objects.get()
    # Late: the worker only gets to it on the day itself ("tomorrow" would be wrong).
    on_the_day = tomorrow_at(7)
    monkeypatch.setattr(timezone, "now", lambda: on_the_day)
    assert send_reminder.call(booking.pk) == "not the day before: no reminder"
    # Moved by the practice to later: it waits for the day before the new time.
    monkeypatch.undo()
    Booking.objects.filter(pk=booking.pk).update(start=tomorrow_at(9) + datetime.timedelta(days=5))
    assert send_reminder.call(booking.pk).startswith("moved")
    assert not Notification.objects.filter(kind="reminder").exists()
    assert len(tasks_named("booking_site.booking.tasks.send_reminder")) == 1


def test_no_reminder_for_a_cancelled_or_past_appointment(world):
    world.slots("A20047", tomorrow_at(9), 2)
    client = signed_in(world.patient)
    book(client, "9am")
    booking = Booking.objects.get()

    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    assert "no reminder" in send_reminder.call(booking.pk)
    Booking.objects.filter(pk=booking.pk).update(
        status=Booking.Status.BOOKED, start=timezone.now() - datetime.timedelta(hours=1)
    )
    assert "no reminder" in send_reminder.call(booking.pk)
    assert not Notification.objects.filter(kind="reminder").exists()


def test_cancelling_sends_one_cancellation_message(world):
    world.slots("A20047", tomorrow_at(9), 1)
    client = signed_in(world.patient)
    book(client, "9am")
    booking = Booking.objects.get()

    client.get(f"/appointments/{booking.pk}/cancel/")
    assert (
        client.post(f"/appointments/{booking.pk}/cancel/", {"reason": "Feeling better"}).status_code
        == 302
    )
    assert client.post(f"/appointments/{booking.pk}/cancel/confirm/").status_code == 302
    run_worker()

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    [cancelled] = [m for m in sent_messages() if m.template_name == "booking_cancelled_email"]
    assert "9am" in cancelled.subject + cancelled.body
    assert "Feeling better" not in cancelled.body


@pytest.mark.parametrize("failure", ["429", "500", "503"])
def test_notify_failing_delays_the_message_and_never_the_booking(world, monkeypatch, failure):
    set_notify_failure(failure)
    world.slots("A20047", tomorrow_at(9), 1)
    client = signed_in(world.patient)

    response = book(client, "9am")
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response.url == f"/appointments/{booking.pk}/confirmation/"
    assert booking.status == Booking.Status.BOOKED
    run_worker()

    [queued] = Notification.objects.all()
    assert queued.status == Notification.Status.QUEUED
    assert queued.attempts == 1
    assert queued.last_problem.startswith(failure)
    assert sent_messages() == []
    # The confirmation page is unchanged by it.
    page = client.get(f"/appointments/{booking.pk}/confirmation/")
    assert page.status_code == 200
    assert "Appointment booked" in page.content.decode()

    # Once Notify works again, the retry (after its delay) sends it, once.
    set_notify_failure("")
    later(monkeypatch, seconds=RETRY_DELAYS[0].total_seconds() + 1)
    run_worker()
    run_worker()
    queued.refresh_from_db()
    assert queued.status == Notification.Status.SENT
    assert queued.attempts == 2
    assert len(sent_messages()) == 1


def test_a_retry_after_a_lost_reply_does_not_send_twice(world):
    """Notify took the message but its reply never came back: the retry finds it by its
    reference instead of sending it again."""
    world.slots("A20047", tomorrow_at(9), 1)
    book(signed_in(world.patient), "9am")
    run_worker()
    queued = Notification.objects.get()
    [message] = sent_messages()
    # As if that attempt's reply was lost: still queued, one attempt made, its lease over.
    Notification.objects.filter(pk=queued.pk).update(
        status=Notification.Status.QUEUED, attempts=1, notify_id="", due_at=timezone.now()
    )

    send_notifications.call([str(queued.pk)])

    queued.refresh_from_db()
    assert queued.status == Notification.Status.SENT
    assert queued.notify_id == str(message.id)
    assert len(sent_messages()) == 1


def test_a_message_notify_refuses_for_good_is_not_retried(world, settings):
    """A 400 (here: the template does not take the message's fields) will not change: the
    message is marked not sent, with the reason, and nothing is scheduled again."""
    world.slots("A20047", tomorrow_at(9), 1)
    book(signed_in(world.patient), "9am")
    Notification.objects.update(personalisation={"practice_name": "Riverside"})

    run_worker()

    queued = Notification.objects.get()
    assert queued.status == Notification.Status.FAILED
    assert queued.last_problem.startswith("400")
    assert not DBTaskResult.objects.filter(
        task_path="booking_site.notifications.tasks.send_notifications", status="READY"
    ).exists()


def test_a_booking_not_yet_known_sends_its_confirmation_only_when_it_settles(world, monkeypatch):
    world.slots("A20047", tomorrow_at(11), 1)
    client = signed_in(world.patient)
    with use_transport(PracticeBooksButReplyIsSpoilt("drop")):
        book(client, "11am")
        booking = Booking.objects.get()
        assert booking.status == Booking.Status.UNKNOWN
        # Not yet confirmed: nothing is said that could be contradicted.
        assert not Notification.objects.exists()

        later(monkeypatch, seconds=20)
        run_worker()  # settles it from the practice's replayed answer, and queues the message
        run_worker()  # sends it

    assert Booking.objects.get().status == Booking.Status.BOOKED
    [message] = sent_messages()
    assert message.template_name == "booking_confirmed_email"
    assert "11am" in message.subject + message.body


def test_cancelling_while_notify_fails_still_cancels_and_the_message_follows(world, monkeypatch):
    world.slots("A20047", tomorrow_at(9), 1)
    client = signed_in(world.patient)
    book(client, "9am")
    run_worker()
    booking = Booking.objects.get()
    set_notify_failure("500")

    client.post(f"/appointments/{booking.pk}/cancel/", {"reason": "Feeling better"})
    response = client.post(f"/appointments/{booking.pk}/cancel/confirm/")
    run_worker()

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    message = Notification.objects.get(kind="booking_cancelled")
    assert message.status == Notification.Status.QUEUED
    assert message.last_problem.startswith("500")
    set_notify_failure("")
    later(monkeypatch, seconds=RETRY_DELAYS[0].total_seconds() + 1)
    run_worker()
    message.refresh_from_db()
    assert message.status == Notification.Status.SENT


def test_the_same_message_in_two_task_runs_is_sent_once(world):
    world.slots("A20047", tomorrow_at(9), 1)
    book(signed_in(world.patient), "9am")
    queued = Notification.objects.get()

    outcomes = send_notifications.call([str(queued.pk), str(queued.pk)])

    assert outcomes == "sent, sent already"
    assert len(sent_messages()) == 1


def test_a_message_another_run_is_sending_is_left_to_it(world):
    """Claimed by another run (its lease not yet over): this run sends nothing."""
    world.slots("A20047", tomorrow_at(9), 1)
    book(signed_in(world.patient), "9am")
    queued = Notification.objects.get()
    Notification.objects.filter(pk=queued.pk).update(
        attempts=1, due_at=timezone.now() + datetime.timedelta(minutes=1)
    )

    assert send_notifications.call([str(queued.pk)]) == "not due yet"
    assert sent_messages() == []


def test_one_message_going_wrong_leaves_the_others_sent_and_itself_for_the_sweep(
    world, monkeypatch
):
    world.slots("A20047", tomorrow_at(9), 1)
    world.slots("A20047", tomorrow_at(10), 1)
    client = signed_in(world.patient)
    book(client, "9am")
    book(client, "10am")
    first, second = Notification.objects.order_by("created")
    real_send = notify.send

    def broken_for_the_first(notify_client, **message):
        if message["reference"] == str(first.pk):
            raise RuntimeError("a bug")
        return real_send(notify_client, **message)

    monkeypatch.setattr(notify, "send", broken_for_the_first)
    send_notifications.call([str(first.pk), str(second.pk)])
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.status == Notification.Status.SENT
    assert first.status == Notification.Status.QUEUED

    # The sweep finds it due once its lease is over, and sends it (asking Notify first).
    monkeypatch.setattr(notify, "send", real_send)
    later(monkeypatch, seconds=LEASE.total_seconds() + 1)
    assert send_overdue.call() == "1 due"
    run_worker()
    first.refresh_from_db()
    assert first.status == Notification.Status.SENT
    assert len(sent_messages()) == 2
