"""Messages in a real browser (issue 18, "Done when"): a booking's confirmation reaches the
Notify stand-in, the reminder task sends one reminder however often it runs, and a time freed by
a cancellation gives a watcher one alert whose link opens a fresh search listing that time.

The server, its task worker and its clock are separate processes, as under `make run`: the
worker sends through Notify's real client to the stand-in over HTTP at the server's address.
"""

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from booking_site.booking.models import Booking
from booking_site.booking.tasks import send_reminder
from gp_sandbox.models import NotifyMessage
from tests.browser.helpers import BrowserProblems, assert_no_axe_violations
from tests.browser.test_patient_journey import (
    HOME,
    HOME_NAME,
    Surgeries,
    book,
    cancel_appointment,
    choose_link,
    choose_when,
    day_ahead,
    expect_page,
    give_details,
    main,
    sign_in_as,
    start_booking,
    surgeries,  # noqa: F401 (the fixture: the journey's practices and patients)
)
from tests.serving import SiteServer

pytestmark = pytest.mark.django_db(transaction=True)


def open_messages(page: Page, to: str) -> None:
    """The stand-in's mail-catcher page, for one recipient."""
    page.goto(f"/sandbox/notify/?to={to}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sandbox GOV.UK Notify: messages sent"
    )
    assert_no_axe_violations(page)


def test_confirmation_reminder_and_an_earlier_appointment_alert_reach_the_patient(
    page: Page,
    surgeries: Surgeries,  # noqa: F811 (the fixture imported above)
    site: SiteServer,
    browser_problems: BrowserProblems,
):
    booker, watcher = surgeries.patient, surgeries.other_patient
    # The reminder goes the day before: the booked time is tomorrow.
    soon, later = day_ahead(1, 11), day_ahead(10, 9, 40)
    surgeries.slots(HOME, soon)
    surgeries.slots(HOME, later)

    # Given a patient who books the earlier of two times
    sign_in_as(page.context, booker, site)
    start_booking(page, axe=False)
    page.get_by_role("radio", name=f"My practice: {HOME_NAME}").check()
    page.get_by_role("button", name="Continue").click()
    choose_when(page, "In the next 14 days")
    choose_link(page, "11am").click()
    give_details(page, "Sore knee", axe=False)
    expect(page.get_by_role("radio", name="Email")).to_be_checked()
    book(page)
    expect_page(page, "Appointment booked")
    booking = Booking.objects.get()

    # When the worker beside the server runs
    site.run_worker()

    # Then the Notify stand-in holds their confirmation email
    open_messages(page, booker.email)
    expect(main(page)).to_contain_text("Your GP appointment is booked")
    expect(main(page)).to_contain_text(HOME_NAME)
    expect(main(page)).to_contain_text("11am")
    expect(main(page)).not_to_contain_text("Sore knee")

    # When the reminder task runs, and runs again
    send_reminder.enqueue(booking.pk)
    send_reminder.enqueue(booking.pk)
    site.run_worker()

    # Then one reminder was sent
    assert NotifyMessage.objects.filter(template_name="reminder_email").count() == 1
    open_messages(page, booker.email)
    expect(page.get_by_text("Reminder: your GP appointment is tomorrow")).to_have_count(1)

    # Given another patient who asks to hear of anything earlier than the time they can see
    page.context.clear_cookies()
    sign_in_as(page.context, watcher, site)
    start_booking(page, axe=False)
    page.get_by_role("radio", name=f"My practice: {HOME_NAME}").check()
    page.get_by_role("button", name="Continue").click()
    choose_when(page, "In the next 14 days")
    expect(choose_link(page, "9:40am")).to_be_visible()
    expect(choose_link(page, "11am")).to_have_count(0)
    page.get_by_role("link", name="Tell me if an earlier appointment comes up").click()
    expect_page(page, "Tell me if an earlier appointment comes up")
    until = datetime.date.today() + datetime.timedelta(weeks=3)
    page.get_by_label("Day").fill(str(until.day))
    page.get_by_label("Month").fill(str(until.month))
    page.get_by_label("Year").fill(str(until.year))
    page.get_by_role("button", name="Tell me about earlier appointments").click()
    expect_page(page, "We will tell you if an earlier appointment comes up")
    # Listed under their appointments, beside how they get messages (which they can change)
    page.goto("/appointments/")
    expect_page(page, "Your appointments")
    expect(main(page)).to_contain_text("Alerts for earlier appointments")
    expect(main(page).get_by_role("button", name=re.compile(r"^Stop alert"))).to_have_count(1)
    main(page).get_by_role("link", name="Change how we send you messages").click()
    expect_page(page, "Messages about your appointments")
    expect(page.get_by_role("radio", name="Email")).to_be_checked()

    # When the first patient cancels, freeing the earlier time
    page.context.clear_cookies()
    sign_in_as(page.context, booker, site)
    page.goto(f"/appointments/{booking.pk}/")
    cancel_appointment(page, "Feeling better")
    expect(main(page).locator(".nhsuk-tag")).to_have_text("Cancelled")

    # And the clock's alert cycle runs in the worker (twice: still one message today)
    site.manage("run_clock", "--once")
    site.run_worker()
    site.manage("run_clock", "--once")
    site.run_worker()

    # Then the watcher has exactly one alert message, naming the freed time
    alerts = NotifyMessage.objects.filter(
        template_name="earlier_appointment_email", recipient=watcher.email
    )
    assert alerts.count() == 1
    page.context.clear_cookies()
    sign_in_as(page.context, watcher, site)
    open_messages(page, watcher.email)
    expect(main(page)).to_contain_text("11am")

    # And its link opens a fresh search of that day, with the time listed
    main(page).locator("a[href*='/search/?day=']").click()
    expect(page).to_have_title(re.compile(r"^Choose a time"))
    expect(choose_link(page, "11am")).to_be_visible()
    expect(choose_link(page, "9:40am")).to_have_count(0)
    assert_no_axe_violations(page)

    # And its "stop" link asks first, then ends the alert
    open_messages(page, watcher.email)
    main(page).locator("a[href*='/alerts/stop/']").click()
    expect_page(page, "Stop messages about earlier appointments")
    page.get_by_role("button", name="Stop these messages").click()
    expect_page(page, "You will not get more messages about earlier appointments")
    browser_problems.assert_none()
