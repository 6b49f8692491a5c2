"""Earlier-appointment alerts (issue 18, 4): set up from the results page or after booking, one
search per practice and window for every watcher, at most one message a day with a link to a
fresh search of that day, and ended by the patient, by an earlier booking, by its last day or
from the message."""

import datetime
import re
from urllib.parse import urlsplit

import httpx
import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from booking_site.asgi import application
from booking_site.gpconnect import use_transport
from booking_site.notifications import alerts
from booking_site.notifications.models import Alert, Notification
from tests.factories import make_patient
from tests.notify_stand_in import sent_messages

from .conftest import book, run_worker, search, signed_in, tomorrow_at

pytestmark = pytest.mark.django_db(transaction=True)


class CountingTransport(httpx.AsyncBaseTransport):
    """The sandbox in process, counting the slot searches each practice is sent."""

    def __init__(self) -> None:
        self.inner = httpx.ASGITransport(app=application)
        self.searches: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Slot"):
            ods = request.url.path.split("/")[2]
            starts = request.url.params.get_list("start")
            self.searches.append((ods, ",".join(starts)))
        return await self.inner.handle_async_request(request)


def cycle() -> alerts.CycleReport:
    return async_to_sync(alerts.run_cycle)(correlation_id="test-cycle")


def in_days(days: int, hour: int, minute: int = 0) -> datetime.datetime:
    return tomorrow_at(hour, minute) + datetime.timedelta(days=days - 1)


def watch(patient, practices, *, earlier_than=None, until_days=28, **filters) -> Alert:
    return alerts.create(
        patient,
        list(practices),
        channels=filters.get("channels", []),
        times_of_day=filters.get("times_of_day", []),
        earlier_than=earlier_than,
        until=timezone.localdate() + datetime.timedelta(days=until_days),
    )


# --- Setting one up -------------------------------------------------------------------------------


def hidden_fields(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)


def set_up_alert(client: Client, href: str, until: datetime.date | None):
    """Open the alert page at ``href`` and send its form with ``until`` as the last day."""
    page = client.get(href)
    assert page.status_code == 200
    data = [(n, v.replace("&#43;", "+")) for n, v in hidden_fields(page.content.decode())]
    if until is not None:
        data += [
            ("until_day", str(until.day)),
            ("until_month", str(until.month)),
            ("until_year", str(until.year)),
        ]
    form = {}
    for name, value in data:
        form.setdefault(name, []).append(value)
    return page, client.post("/book/alert/", form)


def test_the_results_page_offers_an_alert_for_its_practices_filters_and_earliest_time(world):
    world.slots("A20047", in_days(10, 9), 1, delivery_channel="Telephone")
    client = signed_in(world.patient)
    search(client, period="14")
    results = client.get("/book/times/?channel=Telephone&time=morning").content.decode()
    [href] = re.findall(r'href="(/book/alert/\?[^"]+)"', results.replace("&amp;", "&"))
    until = timezone.localdate() + datetime.timedelta(weeks=3)

    page, response = set_up_alert(client, href, until)

    text = page.content.decode()
    assert "Riverside Medical Practice" in text
    assert "Phone call" in text
    assert "Morning" in text
    assert world.patient.email in text
    alert = Alert.objects.get()
    assert response.status_code == 302
    assert response.url == f"/appointments/alerts/{alert.pk}/"
    assert list(alert.practices.values_list("ods_code", flat=True)) == ["A20047"]
    assert alert.channels == ["Telephone"]
    assert alert.times_of_day == ["morning"]
    assert alert.earlier_than == in_days(10, 9)
    assert alert.until == until
    shown = client.get(response.url).content.decode()
    assert "We will tell you if an earlier appointment comes up" in shown


def test_after_booking_an_alert_looks_for_something_earlier_than_the_booking(world):
    world.slots("A20047", tomorrow_at(15), 1)
    client = signed_in(world.patient)
    response = book(client, "3pm")
    confirmation = client.get(response.url).content.decode()
    [href] = re.findall(r'href="(/book/alert/\?after=\d+)"', confirmation)

    set_up_alert(client, href, timezone.localdate() + datetime.timedelta(days=7))

    assert Alert.objects.get().earlier_than == tomorrow_at(15)


@pytest.mark.parametrize(
    ("until", "message"),
    [
        (None, "Enter the last day of the alert"),
        (-1, "The last day must be today or in the future"),
        (8 * 7 + 1, "The last day must be no more than 8 weeks from today"),
    ],
)
def test_the_last_day_is_checked_with_a_clear_message(world, until, message):
    world.slots("A20047", tomorrow_at(9), 1)
    client = signed_in(world.patient)
    search(client)
    day = None if until is None else timezone.localdate() + datetime.timedelta(days=until)

    _, response = set_up_alert(client, "/book/alert/", day)

    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert message in page
    assert 'href="#id_until' in page
    assert not Alert.objects.exists()


def test_a_patient_who_wants_no_messages_is_asked_to_choose_how_first(world):
    world.patient.contact_by = "none"
    world.patient.save()
    world.slots("A20047", tomorrow_at(9), 1)
    client = signed_in(world.patient)
    search(client)

    page = client.get("/book/alert/").content.decode()

    assert "You have chosen not to get messages" in page
    assert "/account/messages/?next=" in page
    _, response = set_up_alert(client, "/book/alert/", timezone.localdate())
    assert response.status_code == 200
    assert not Alert.objects.exists()


# --- The cycle ----------------------------------------------------------------------------------


def test_one_search_per_practice_and_window_serves_every_watcher(world):
    world.slots("A20047", in_days(3, 9), 1)
    world.slots("B82617", in_days(20, 10), 1)
    patients = [world.patient, world.other_patient] + [
        make_patient(nhs_number=n, practice=world.practices["A20047"])
        for n in ("9449310475", "9449304130")
    ]
    both = [world.practices["A20047"], world.practices["B82617"]]
    for patient in patients:
        watch(patient, both, until_days=40)
        watch(patient, [world.practices["A20047"]], until_days=10)
    counting = CountingTransport()

    with use_transport(counting):
        report = cycle()

    # 8 alerts, 2 practices, each asked once for each 14-day window from today to day 41.
    assert report.alerts_active == 8
    assert report.practices_searched == 2
    per_practice = {
        ods: [s for o, s in counting.searches if o == ods] for ods in ("A20047", "B82617")
    }
    assert len(per_practice["A20047"]) == len(set(per_practice["A20047"])) == 3
    assert len(per_practice["B82617"]) == len(set(per_practice["B82617"])) == 3
    assert report.searches == len(counting.searches) == 6
    # Each of the 4 patients' 2 alerts matches the earliest time (day 3 at Riverside); each
    # patient hears of it once.
    assert report.alerts_matched == 8
    assert report.messages_queued == 4
    assert {n.patient_id for n in Notification.objects.all()} == {p.pk for p in patients}


def test_the_budget_keeps_each_practice_to_one_search_in_five_minutes(world):
    world.slots("A20047", in_days(3, 9), 1)
    watch(world.patient, [world.practices["A20047"]])
    counting = CountingTransport()

    with use_transport(counting):
        first = cycle()
        second = cycle()

    assert first.practices_searched == 1
    assert second.practices_searched == 0
    assert second.over_budget == 1
    # The first cycle's 14-day windows up to the alert's last day (day 28: the third), no more.
    assert len(counting.searches) == 3


def test_a_watcher_hears_only_of_times_that_suit_and_at_most_once_a_day(world, monkeypatch):
    world.slots("A20047", in_days(2, 8), 1, delivery_channel="Video")  # wrong channel
    world.slots("A20047", in_days(2, 19), 1, delivery_channel="Telephone")  # evening
    world.slots("A20047", in_days(12, 9), 1, delivery_channel="Telephone")  # later than booked
    watch(
        world.patient,
        [world.practices["A20047"]],
        earlier_than=in_days(10, 9),
        channels=["Telephone"],
        times_of_day=["morning", "afternoon"],
    )
    assert cycle().alerts_matched == 0

    # A cancellation frees a morning phone appointment on day 4.
    world.slots("A20047", in_days(4, 11, 30), 1, delivery_channel="Telephone")
    cache.clear()
    assert cycle().messages_queued == 1
    # Another frees up the same day: nothing more today.
    world.slots("A20047", in_days(3, 10), 1, delivery_channel="Telephone")
    cache.clear()
    again = cycle()
    assert again.alerts_matched == 1
    assert again.messages_queued == 0
    run_worker()

    [message] = sent_messages()
    assert message.template_name == "earlier_appointment_email"
    assert "11:30am" in message.subject + message.body
    assert Notification.objects.get().kind == "earlier_appointment"


def test_the_same_time_is_not_told_twice_on_later_days(world, monkeypatch):
    world.slots("A20047", in_days(5, 9), 1)
    watch(world.patient, [world.practices["A20047"]])
    assert cycle().messages_queued == 1
    # The next day, the same time still free: no second message about it.
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    monkeypatch.setattr(alerts, "uk_today", lambda: tomorrow)
    cache.clear()
    assert cycle().messages_queued == 0
    # A new earlier time: told.
    world.slots("A20047", in_days(3, 9), 1)
    cache.clear()
    assert cycle().messages_queued == 1
    assert Notification.objects.filter(kind="earlier_appointment").count() == 2


def test_the_link_in_the_message_opens_a_fresh_search_of_that_day(world):
    slot_start = in_days(6, 14, 20)
    world.slots("A20047", slot_start, 1)
    world.slots("B82617", in_days(7, 9), 1)  # another day: not in that search
    watch(world.patient, [world.practices["A20047"], world.practices["B82617"]])
    cycle()
    run_worker()
    [message] = sent_messages()
    [link] = [url for url in re.findall(r"https?://\S+", message.body) if "/search/" in url]
    client = signed_in(world.patient)

    response = client.get(urlsplit(link).path + "?" + urlsplit(link).query)
    assert response.status_code == 302
    results = client.get(response.url).content.decode()

    assert "2:20pm" in results
    assert "9am" not in results


def test_the_link_asks_a_signed_out_patient_to_sign_in_and_is_theirs_alone(world):
    alert = watch(world.patient, [world.practices["A20047"]])
    day = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    path = f"/appointments/alerts/{alert.pk}/search/?day={day}"

    assert Client().get(path).url.startswith("/account/sign-in/")
    assert signed_in(world.other_patient).get(path).status_code == 404


# --- Ending --------------------------------------------------------------------------------------


def test_your_appointments_lists_alerts_and_the_patient_can_stop_one(world):
    alert = watch(world.patient, [world.practices["A20047"]], until_days=20)
    client = signed_in(world.patient)

    page = client.get("/appointments/").content.decode()
    assert "Alerts for earlier appointments" in page
    assert f"/appointments/alerts/{alert.pk}/end/" in page
    assert 'Stop alert<span class="nhsuk-u-visually-hidden">: Any time at Riverside' in page
    assert client.post(f"/appointments/alerts/{alert.pk}/end/").status_code == 302

    alert.refresh_from_db()
    assert alert.status == Alert.Status.ENDED
    assert "You have no alerts" in client.get("/appointments/").content.decode()
    # Nobody else can end it.
    other = watch(world.patient, [world.practices["A20047"]])
    assert (
        signed_in(world.other_patient).post(f"/appointments/alerts/{other.pk}/end/").status_code
        == 404
    )


def test_booking_something_earlier_ends_the_alert(world):
    world.slots("A20047", tomorrow_at(9), 1)
    met = watch(world.patient, [world.practices["A20047"]], earlier_than=in_days(9, 9))
    not_met = watch(world.patient, [world.practices["A20047"]], earlier_than=tomorrow_at(8))
    elsewhere = watch(world.patient, [world.practices["B82617"]])

    book(signed_in(world.patient), "9am")

    statuses = {a.pk: a.status for a in Alert.objects.all()}
    assert statuses[met.pk] == Alert.Status.BOOKED
    assert statuses[not_met.pk] == Alert.Status.ACTIVE
    assert statuses[elsewhere.pk] == Alert.Status.ACTIVE


def test_an_alert_ends_itself_when_its_last_day_passes(world):
    alert = watch(world.patient, [world.practices["A20047"]], until_days=0)
    Alert.objects.filter(pk=alert.pk).update(
        until=timezone.localdate() - datetime.timedelta(days=1)
    )

    assert cycle().alerts_expired == 1
    alert.refresh_from_db()
    assert alert.status == Alert.Status.EXPIRED


def test_the_stop_link_asks_then_ends_the_alert_without_signing_in(world):
    world.slots("A20047", in_days(5, 9), 1)
    alert = watch(world.patient, [world.practices["A20047"]])
    cycle()
    run_worker()
    [message] = sent_messages()
    [link] = [url for url in re.findall(r"https?://\S+", message.body) if "/stop/" in url]
    path = urlsplit(link).path
    client = Client()

    asked = client.get(path)
    assert asked.status_code == 200
    assert "Stop these messages" in asked.content.decode()
    alert.refresh_from_db()
    assert alert.is_active  # following a link changes nothing
    assert client.post(path).status_code == 302
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ENDED
    assert "You will not get more messages" in client.get(path).content.decode()
    # A link we did not sign is not found.
    assert client.get(path[:-3] + "xyz/").status_code == 404


# --- What a patient can send that the page did not offer ------------------------------------------


@pytest.mark.parametrize(
    "earlier",
    [
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59-23:59",
        "2020-01-01T09:00:00+00:00",
        "2030-01-01T09:00:00",
        "not a time",
        "9" * 5000,
    ],
)
def test_a_time_to_beat_that_is_not_one_to_come_is_taken_as_none(world, earlier):
    world.slots("A20047", tomorrow_at(9), 1)
    client = signed_in(world.patient)
    search(client)
    until = timezone.localdate() + datetime.timedelta(days=7)

    page = client.get("/book/alert/", {"earlier": earlier})
    response = client.post(
        "/book/alert/",
        {
            "earlier": earlier,
            "until_day": until.day,
            "until_month": until.month,
            "until_year": until.year,
        },
    )

    assert page.status_code == 200
    assert response.status_code == 302
    assert Alert.objects.get().earlier_than is None
    assert client.get("/appointments/").status_code == 200
    assert cycle().alerts_active == 1


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "x", ""])
def test_a_search_link_with_any_day_opens_a_search_within_reach(world, day):
    alert = watch(world.patient, [world.practices["A20047"]])
    client = signed_in(world.patient)

    response = client.get(f"/appointments/alerts/{alert.pk}/search/", {"day": day})

    assert response.status_code == 302
    assert client.get(response.url).status_code == 200


def test_another_patients_alert_is_not_found(world):
    alert = watch(world.patient, [world.practices["A20047"]])
    other = signed_in(world.other_patient)

    assert other.get(f"/appointments/alerts/{alert.pk}/").status_code == 404
    assert other.get(f"/appointments/alerts/{alert.pk}/search/").status_code == 404
    assert other.post(f"/appointments/alerts/{alert.pk}/end/").status_code == 404
    assert "Alerts for earlier appointments" in other.get("/appointments/").content.decode()
    assert str(alert.pk) not in other.get("/appointments/").content.decode()


def test_setting_up_the_same_alert_twice_keeps_one_and_five_is_the_most(world):
    world.slots("A20047", tomorrow_at(9), 1)
    client = signed_in(world.patient)
    search(client)

    def post(days: int):
        until = timezone.localdate() + datetime.timedelta(days=days)
        return client.post(
            "/book/alert/",
            {"until_day": until.day, "until_month": until.month, "until_year": until.year},
        )

    first, again = post(7), post(7)
    assert first.url == again.url
    assert Alert.objects.count() == 1
    for days in (8, 9, 10, 11):
        assert post(days).status_code == 302
    refused = post(12)

    assert Alert.objects.filter(status=Alert.Status.ACTIVE).count() == 5
    page = refused.content.decode()
    assert refused.status_code == 200
    assert "There is a problem" in page
    assert "You already have 5 alerts" in page
    assert 'href="#id_until_day"' in page


def test_an_alert_after_booking_watches_the_booked_practice(world):
    world.slots("B82617", tomorrow_at(15), 1)
    client = signed_in(world.patient)
    search(client, scope="federation")
    results = client.get("/book/times/").content.decode().replace("&amp;", "&")
    [link] = re.findall(
        r'href="(/book/details/\?[^"]+)">Choose<span class="nhsuk-u-visually-hidden"> 3pm', results
    )
    client.get(link)
    client.post("/book/details/", {"reason": "Rash", "note": ""})
    page = client.get("/book/check/").content.decode()
    answers = re.search(r'name="answers" value="([^"]+)"', page).group(1)
    booked = client.post("/book/check/", {"answers": answers})
    [href] = re.findall(
        r'href="(/book/alert/\?after=\d+)"', client.get(booked.url).content.decode()
    )

    set_up_alert(client, href, timezone.localdate() + datetime.timedelta(days=7))

    alert = Alert.objects.get()
    assert list(alert.practices.values_list("ods_code", flat=True)) == ["B82617"]
    assert alert.earlier_than == tomorrow_at(15)


def test_the_results_practice_filter_narrows_the_alert(world):
    world.slots("A20047", tomorrow_at(9), 1)
    world.slots("B82617", tomorrow_at(10), 1)
    client = signed_in(world.patient)
    search(client, scope="federation")
    results = client.get("/book/times/?practice=B82617").content.decode()
    [href] = re.findall(r'href="(/book/alert/\?[^"]+)"', results.replace("&amp;", "&"))

    set_up_alert(client, href, timezone.localdate() + datetime.timedelta(days=7))

    assert list(Alert.objects.get().practices.values_list("ods_code", flat=True)) == ["B82617"]


def test_an_alert_stopped_while_a_cycle_runs_tells_nothing(world):
    world.slots("A20047", in_days(3, 9), 1)
    alert = watch(world.patient, [world.practices["A20047"]])
    [slot] = async_to_sync(_free_slots)(world)
    Alert.objects.filter(pk=alert.pk).update(status=Alert.Status.ENDED, ended_at=timezone.now())

    queued = alerts._notify([(alert, slot)], world.practices, timezone.localdate())

    assert queued == 0
    assert not Notification.objects.exists()


async def _free_slots(world):
    from booking_site import gpconnect
    from booking_site.practices.directory import endpoint_for

    today = timezone.localdate()
    [result] = await gpconnect.search_free_slots(
        [endpoint_for(world.practices["A20047"])],
        gpconnect.DateRange(today, today + datetime.timedelta(days=6)),
        None,
        correlation_id="test",
    )
    return result.slots


def test_an_alert_whose_time_to_beat_has_come_ends(world):
    alert = watch(
        world.patient,
        [world.practices["A20047"]],
        earlier_than=timezone.now() + datetime.timedelta(minutes=30),
    )

    assert cycle().alerts_expired == 1
    alert.refresh_from_db()
    assert alert.status == Alert.Status.EXPIRED


def test_the_clock_does_not_pile_up_cycles_while_no_worker_runs(world):
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    call_command("run_clock", "--once")
    call_command("run_clock", "--once")

    cycles = DBTaskResult.objects.filter(task_path="booking_site.notifications.alerts.alert_cycle")
    assert cycles.count() == 1


@pytest.mark.parametrize("after", ["9" * 30, "-1", "x", ""])
def test_an_after_that_is_not_one_of_the_patients_bookings_is_ignored(world, after):
    world.slots("A20047", tomorrow_at(9), 1)
    client = signed_in(world.patient)
    search(client)

    page = client.get("/book/alert/", {"after": after})

    assert page.status_code == 200
    assert "Any time" in page.content.decode()
