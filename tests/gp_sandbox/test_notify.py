"""The GOV.UK Notify stand-in, driven by Notify's real Python client through the in-process
transport (tests/notify_stand_in.py), and its mail-catcher page."""

import datetime
import re
import uuid
from unittest import mock

import jwt
import pytest
import requests
from django.conf import settings
from django.test import Client
from django.utils import timezone
from notifications_python_client.authentication import create_jwt_token
from notifications_python_client.errors import HTTP503Error, HTTPError

from gp_sandbox.models import NotifyBehaviour, NotifyMessage
from gp_sandbox.notify.rendering import placeholders
from gp_sandbox.notify.templates import TEMPLATES
from tests.notify_stand_in import (
    BASE_URL,
    InProcessNotify,
    sent_messages,
    set_notify_failure,
    stand_in_client,
)

pytestmark = pytest.mark.django_db

EMAIL = "sam.okafor@example.com"
MOBILE = "07700 900123"
APPOINTMENT = {
    "practice_name": "Oakwood Surgery",
    "appointment_day": "Tuesday 8 December 2026",
    "appointment_time": "9:30am",
    "what_to_do": "Go to Oakwood Surgery, 1 High Street, Leeds LS1 1AA.",
    "appointment_url": "http://testserver/appointments/42",
    "practice_phone": "0113 496 0000",
}
CANCELLED = {
    "practice_name": "Oakwood Surgery",
    "appointment_day": "Tuesday 8 December 2026",
    "appointment_time": "9:30am",
    "book_url": "http://testserver/book",
}
EARLIER = {
    "practice_name": "Oakwood Surgery",
    "appointment_day": "Monday 7 December 2026",
    "appointment_time": "2:10pm",
    "search_url": "http://testserver/search?day=2026-12-07",
    "stop_url": "http://testserver/alerts/7/stop",
}
CONTRACT = {
    "booking_confirmed": set(APPOINTMENT),
    "reminder": set(APPOINTMENT),
    "booking_cancelled": set(CANCELLED),
    "earlier_appointment": set(EARLIER),
}


def template_id(name: str) -> str:
    return settings.NOTIFY_TEMPLATE_IDS[name]


@pytest.fixture
def notify():
    """Notify's own client, with the key the stand-in accepts."""
    return stand_in_client()


def service_and_secret() -> tuple[str, str]:
    key = settings.SANDBOX_NOTIFY_API_KEY
    return key[-73:-37], key[-36:]


def errors_of(error: HTTPError) -> list[tuple[str, str]]:
    return [(item["error"], item["message"]) for item in error.message]


# --- The templates ------------------------------------------------------------------------------


def test_every_template_the_site_names_exists_with_the_id_from_settings():
    assert set(TEMPLATES) == set(settings.NOTIFY_TEMPLATE_NAMES)
    for name in settings.NOTIFY_TEMPLATE_NAMES:
        template = TEMPLATES[name]
        assert template.id == settings.NOTIFY_TEMPLATE_IDS[name]
        kind, channel = name.rsplit("_", 1)
        assert template.type == channel
        assert set(placeholders(template)) == CONTRACT[kind], name
        if channel == "email":
            assert template.subject
            assert template.body.endswith("Do not reply to this email.")
        else:
            assert not template.subject


def test_a_template_is_found_by_the_id_settings_give_it(notify, settings):
    new_id = str(uuid.uuid4())
    settings.NOTIFY_TEMPLATE_IDS = {**settings.NOTIFY_TEMPLATE_IDS, "booking_cancelled_sms": new_id}

    sent = notify.send_sms_notification(MOBILE, new_id, personalisation=CANCELLED)

    assert sent["template"]["id"] == new_id
    assert sent_messages()[0].template_name == "booking_cancelled_sms"


# --- Sending ------------------------------------------------------------------------------------


def test_an_email_is_rendered_kept_and_described_as_notify_does(notify):
    sent = notify.send_email_notification(
        EMAIL,
        template_id("booking_confirmed_email"),
        personalisation={**APPOINTMENT, "not_in_the_template": "ignored"},
        reference="message-1",
    )

    [message] = sent_messages(to=EMAIL)
    assert sent["id"] == str(message.id)
    assert sent["reference"] == "message-1"
    assert sent["uri"] == f"{BASE_URL}/v2/notifications/{message.id}"
    assert sent["template"]["id"] == template_id("booking_confirmed_email")
    assert sent["template"]["version"] == 1
    assert sent["scheduled_for"] is None
    content = sent["content"]
    assert content["subject"] == "Your GP appointment is booked"
    assert content["from_email"].endswith("@notifications.service.gov.uk")
    assert content["one_click_unsubscribe_url"] is None
    body = content["body"]
    assert body.startswith("Your appointment at Oakwood Surgery is booked.")
    assert "Tuesday 8 December 2026 at 9:30am" in body
    assert "Go to Oakwood Surgery, 1 High Street, Leeds LS1 1AA." in body
    assert "http://testserver/appointments/42" in body
    assert "0113 496 0000" in body
    assert "((" not in body
    assert "ignored" not in body
    assert message.type == "email"
    assert message.template_name == "booking_confirmed_email"
    assert message.subject == content["subject"]
    assert message.body == body
    assert message.reference == "message-1"
    assert message.personalisation["practice_name"] == "Oakwood Surgery"
    assert message.status == "delivered"


def test_a_text_message_is_rendered_and_kept(notify):
    sent = notify.send_sms_notification(
        MOBILE, template_id("reminder_sms"), personalisation=APPOINTMENT, reference="message-2"
    )

    assert sent["content"]["from_number"]
    body = sent["content"]["body"]
    assert body.startswith("Reminder: you have an appointment at Oakwood Surgery tomorrow,")
    assert "http://testserver/appointments/42" in body
    [message] = sent_messages(to=MOBILE)
    assert message.type == "sms"
    assert message.subject == ""
    assert message.body == body


def test_an_earlier_appointment_alert_links_to_the_search_and_to_stopping_it(notify):
    sent = notify.send_email_notification(
        EMAIL, template_id("earlier_appointment_email"), personalisation=EARLIER
    )

    content = sent["content"]
    assert content["subject"] == "An earlier GP appointment is free at Oakwood Surgery"
    assert "Monday 7 December 2026 at 2:10pm" in content["body"]
    assert "someone else may book it first" in content["body"]
    assert "http://testserver/search?day=2026-12-07" in content["body"]
    assert "http://testserver/alerts/7/stop" in content["body"]
    assert sent["reference"] is None


# --- Reading back -------------------------------------------------------------------------------


def test_a_notification_is_read_back_by_its_id(notify):
    sent = notify.send_email_notification(
        EMAIL, template_id("booking_cancelled_email"), personalisation=CANCELLED, reference="r-9"
    )

    got = notify.get_notification_by_id(sent["id"])

    assert got["id"] == sent["id"]
    assert got["reference"] == "r-9"
    assert got["email_address"] == EMAIL
    assert got["phone_number"] is None
    assert got["type"] == "email"
    assert got["status"] == "delivered"
    assert got["template"]["id"] == template_id("booking_cancelled_email")
    assert got["subject"] == "Your GP appointment is cancelled"
    assert got["body"] == sent["content"]["body"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", got["created_at"])
    assert got["completed_at"] == got["created_at"]


def test_an_unknown_notification_is_not_found(notify):
    with pytest.raises(HTTPError) as unknown:
        notify.get_notification_by_id(str(uuid.uuid4()))
    with pytest.raises(HTTPError) as malformed:
        notify.get_notification_by_id("not-an-id")

    assert unknown.value.status_code == 404
    assert errors_of(unknown.value) == [("NoResultFound", "No result found")]
    assert malformed.value.status_code == 400
    assert errors_of(malformed.value) == [
        ("ValidationError", "notification_id is not a valid UUID")
    ]


def test_notifications_are_found_by_the_reference_the_client_gave(notify):
    notify.send_sms_notification(
        MOBILE, template_id("booking_cancelled_sms"), personalisation=CANCELLED, reference="a"
    )
    wanted = notify.send_email_notification(
        EMAIL, template_id("booking_cancelled_email"), personalisation=CANCELLED, reference="b"
    )

    found = notify.get_all_notifications(reference="b")
    none = notify.get_all_notifications(reference="never-sent")

    assert [n["id"] for n in found["notifications"]] == [wanted["id"]]
    assert found["links"]["current"] == f"{BASE_URL}/v2/notifications?reference=b"
    assert f"older_than={wanted['id']}" in found["links"]["next"]
    assert none["notifications"] == []
    assert "next" not in none["links"]
    # The client's iterator follows "next" until a page is empty.
    assert [n["id"] for n in notify.get_all_notifications_iterator(reference="b")] == [wanted["id"]]


def test_notifications_are_listed_newest_first_and_filtered_by_type(notify):
    first = notify.send_sms_notification(
        MOBILE, template_id("booking_cancelled_sms"), personalisation=CANCELLED
    )
    NotifyMessage.objects.filter(pk=first["id"]).update(
        created_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    second = notify.send_email_notification(
        EMAIL, template_id("booking_cancelled_email"), personalisation=CANCELLED
    )

    everything = notify.get_all_notifications()["notifications"]
    texts = notify.get_all_notifications(template_type="sms")["notifications"]
    older = notify.get_all_notifications(older_than=second["id"])["notifications"]

    assert [n["id"] for n in everything] == [second["id"], first["id"]]
    assert [n["id"] for n in texts] == [first["id"]]
    assert texts[0]["phone_number"] == MOBILE
    assert [n["id"] for n in older] == [first["id"]]


# --- Requests Notify refuses --------------------------------------------------------------------


def test_a_placeholder_without_a_value_is_refused_and_nothing_is_kept(notify):
    partial = {
        k: v for k, v in APPOINTMENT.items() if k not in {"appointment_url", "practice_phone"}
    }

    with pytest.raises(HTTPError) as refused:
        notify.send_email_notification(
            EMAIL, template_id("booking_confirmed_email"), personalisation=partial
        )

    assert refused.value.status_code == 400
    assert errors_of(refused.value) == [
        ("BadRequestError", "Missing personalisation: appointment_url, practice_phone")
    ]
    assert sent_messages() == []


@pytest.mark.parametrize(
    "address", ["sam.okafor", "sam@example", "sam@@example.com", "sam okafor@example.com", ""]
)
def test_an_email_address_notify_would_refuse_is_refused(notify, address):
    with pytest.raises(HTTPError) as refused:
        notify.send_email_notification(
            address, template_id("booking_cancelled_email"), personalisation=CANCELLED
        )

    assert refused.value.status_code == 400
    assert errors_of(refused.value) == [
        ("ValidationError", "email_address Not a valid email address")
    ]
    assert sent_messages() == []


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("0113 496 0000", ("InvalidPhoneError", "Not a UK mobile number")),
        ("+33 6 12 34 56 78", ("BadRequestError", "Cannot send to international mobile numbers")),
        ("07700 90012", ("ValidationError", "phone_number Not enough digits")),
        ("07700 900123 4567", ("ValidationError", "phone_number Too many digits")),
        ("07700 9001a3", ("ValidationError", "phone_number Must not contain letters or symbols")),
    ],
)
def test_a_number_that_is_not_a_uk_mobile_is_refused(notify, number, error):
    with pytest.raises(HTTPError) as refused:
        notify.send_sms_notification(
            number, template_id("booking_cancelled_sms"), personalisation=CANCELLED
        )

    assert refused.value.status_code == 400
    assert errors_of(refused.value) == [error]
    assert sent_messages() == []


@pytest.mark.parametrize("number", ["07700900123", "+44 7700 900123", "(07700) 900-123"])
def test_uk_mobiles_written_in_any_usual_way_are_accepted(notify, number):
    notify.send_sms_notification(
        number, template_id("booking_cancelled_sms"), personalisation=CANCELLED
    )

    assert [m.recipient for m in sent_messages()] == [number]


def test_an_unknown_template_is_refused(notify):
    with pytest.raises(HTTPError) as refused:
        notify.send_email_notification(EMAIL, str(uuid.uuid4()), personalisation=CANCELLED)

    assert refused.value.status_code == 400
    assert errors_of(refused.value) == [("BadRequestError", "Template not found")]


def test_a_template_for_the_other_channel_is_refused(notify):
    with pytest.raises(HTTPError) as refused:
        notify.send_email_notification(
            EMAIL, template_id("booking_cancelled_sms"), personalisation=CANCELLED
        )

    assert refused.value.status_code == 400
    assert errors_of(refused.value) == [
        ("BadRequestError", "sms template is not suitable for email notification")
    ]
    assert sent_messages() == []


def _raw_session() -> requests.Session:
    session = requests.Session()
    session.mount(BASE_URL, InProcessNotify())
    return session


def _bearer(service_id: str, secret: str, iat: int | None = None) -> dict:
    claims = {"iss": service_id, "iat": iat if iat is not None else int(timezone.now().timestamp())}
    token = jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})
    return {"Authorization": f"Bearer {token}"}


def test_a_body_that_is_not_json_is_refused():
    response = _raw_session().post(
        f"{BASE_URL}/v2/notifications/email",
        data="not json",
        headers={**_bearer(*service_and_secret()), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"error": "BadRequestError", "message": "Invalid JSON supplied in POST data"}],
        "status_code": 400,
    }


def test_missing_fields_are_all_named():
    response = _raw_session().post(
        f"{BASE_URL}/v2/notifications/sms",
        json={"personalisation": {}},
        headers=_bearer(*service_and_secret()),
    )

    assert response.status_code == 400
    assert [e["message"] for e in response.json()["errors"]] == [
        "phone_number is a required property",
        "template_id is a required property",
    ]


# --- The API key --------------------------------------------------------------------------------


def _refused_with(api_key: str) -> HTTPError:
    with pytest.raises(HTTPError) as refused:
        stand_in_client(api_key).send_email_notification(
            EMAIL, template_id("booking_cancelled_email"), personalisation=CANCELLED
        )
    return refused.value


def test_a_key_for_another_service_is_refused():
    _, secret = service_and_secret()

    refused = _refused_with(f"another_service-{uuid.uuid4()}-{secret}")

    assert refused.status_code == 403
    assert errors_of(refused) == [("AuthError", "Invalid token: service not found")]
    assert sent_messages() == []


def test_a_key_with_the_wrong_secret_is_refused():
    service_id, _ = service_and_secret()

    refused = _refused_with(f"booking_site_sandbox-{service_id}-{uuid.uuid4()}")

    assert refused.status_code == 403
    assert errors_of(refused) == [("AuthError", "Invalid token: API key not found")]
    assert sent_messages() == []


@pytest.mark.parametrize(
    "seconds", [-31, -300, 31, 300], ids=["31s old", "5m old", "31s ahead", "5m ahead"]
)
def test_a_token_issued_more_than_30_seconds_from_now_is_refused(notify, seconds):
    def token_issued_then(secret: str, client_id: str) -> str:
        claims = {"iss": client_id, "iat": int(timezone.now().timestamp()) + seconds}
        return jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})

    # The client's own token maker, with a clock that is wrong by ``seconds``.
    with (
        mock.patch("notifications_python_client.base.create_jwt_token", token_issued_then),
        pytest.raises(HTTPError) as refused,
    ):
        notify.send_email_notification(
            EMAIL, template_id("booking_cancelled_email"), personalisation=CANCELLED
        )

    assert refused.value.status_code == 403
    assert errors_of(refused.value) == [
        ("AuthError", "Error: Your system clock must be accurate to within 30 seconds")
    ]
    assert sent_messages() == []


def test_a_token_issued_within_30_seconds_is_accepted(notify):
    with mock.patch(
        "notifications_python_client.base.create_jwt_token",
        lambda secret, client_id: jwt.encode(
            {"iss": client_id, "iat": int(timezone.now().timestamp()) - 20}, secret, "HS256"
        ),
    ):
        notify.send_email_notification(
            EMAIL, template_id("booking_cancelled_email"), personalisation=CANCELLED
        )

    assert len(sent_messages()) == 1


def test_a_request_without_a_token_is_unauthorised_as_notify_answers():
    """Notify answers 401, not 403, when there is no Authorization header at all."""
    session = _raw_session()

    missing = session.get(f"{BASE_URL}/v2/notifications")
    not_bearer = session.get(f"{BASE_URL}/v2/notifications", headers={"Authorization": "Basic x"})
    not_a_jwt = session.get(f"{BASE_URL}/v2/notifications", headers={"Authorization": "Bearer x"})

    assert missing.status_code == 401
    assert missing.json()["errors"] == [
        {"error": "AuthError", "message": "Unauthorized: authentication token must be provided"}
    ]
    assert not_bearer.status_code == 401
    assert not_a_jwt.status_code == 403
    assert not_a_jwt.json()["errors"][0]["message"].startswith("Invalid token:")


def test_the_clients_own_token_is_accepted_as_notify_checks_it():
    service_id, secret = service_and_secret()

    response = _raw_session().get(
        f"{BASE_URL}/v2/notifications",
        headers={"Authorization": f"Bearer {create_jwt_token(secret, service_id)}"},
    )

    assert response.status_code == 200
    assert response.json()["notifications"] == []


# --- The failure switch -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [
        (
            "429",
            429,
            (
                "RateLimitError",
                "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
            ),
        ),
        ("500", 500, ("Exception", "Internal server error")),
    ],
)
def test_a_switched_on_failure_answers_every_call_and_keeps_nothing(notify, kind, status, error):
    earlier = notify.send_email_notification(
        EMAIL, template_id("booking_cancelled_email"), personalisation=CANCELLED
    )
    set_notify_failure(kind)

    with pytest.raises(HTTPError) as sending:
        notify.send_sms_notification(
            MOBILE, template_id("booking_cancelled_sms"), personalisation=CANCELLED
        )
    with pytest.raises(HTTPError) as reading:
        notify.get_notification_by_id(earlier["id"])

    assert sending.value.status_code == reading.value.status_code == status
    assert errors_of(sending.value) == [error]
    assert [m.type for m in sent_messages()] == ["email"]


def test_a_switched_on_503_is_not_json_and_the_client_says_so(notify):
    set_notify_failure("503")

    with pytest.raises(HTTP503Error) as unavailable:
        notify.send_sms_notification(
            MOBILE, template_id("booking_cancelled_sms"), personalisation=CANCELLED
        )

    assert unavailable.value.status_code == 503
    assert unavailable.value.message == "Request failed"
    assert sent_messages() == []


def test_the_key_is_checked_before_a_switched_on_failure():
    set_notify_failure("500")
    service_id, _ = service_and_secret()

    refused = _refused_with(f"booking_site_sandbox-{service_id}-{uuid.uuid4()}")

    assert refused.status_code == 403


def test_switching_the_failure_off_makes_it_work_again(notify):
    set_notify_failure("429")
    set_notify_failure("")

    notify.send_sms_notification(
        MOBILE, template_id("booking_cancelled_sms"), personalisation=CANCELLED
    )

    assert len(sent_messages()) == 1


# --- The mail-catcher page ----------------------------------------------------------------------

PAGE = "/sandbox/notify/"


def test_the_page_shows_every_message_newest_first_with_links(client, notify):
    notify.send_sms_notification(
        MOBILE, template_id("booking_cancelled_sms"), personalisation=CANCELLED
    )
    NotifyMessage.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=1))
    notify.send_email_notification(
        EMAIL, template_id("booking_confirmed_email"), personalisation=APPOINTMENT, reference="m1"
    )

    response = client.get(PAGE)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert html.index(f"Email to {EMAIL}") < html.index(f"Text message to {MOBILE}")
    assert "booking_confirmed_email" in html
    assert "booking_cancelled_sms" in html
    assert "Your GP appointment is booked" in html
    assert "m1" in html
    assert (
        '<a class="nhsuk-link" href="http://testserver/appointments/42">'
        "http://testserver/appointments/42</a>" in html
    )
    assert '<a class="nhsuk-link" href="http://testserver/book">http://testserver/book</a>' in html
    assert "2 messages, newest first." in html


def test_the_page_escapes_what_the_client_sent_and_links_only_web_addresses(client, notify):
    hostile = {
        **CANCELLED,
        "practice_name": '<script>alert("x")</script>',
        "book_url": 'https://example.com/"onmouseover="x javascript:alert(1)',
    }
    notify.send_email_notification(
        EMAIL, template_id("booking_cancelled_email"), personalisation=hostile
    )

    html = client.get(PAGE).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert '<a class="nhsuk-link" href="https://example.com/">https://example.com/</a>' in html
    assert 'href="javascript' not in html


def test_the_page_filters_by_recipient(client, notify):
    notify.send_sms_notification(
        MOBILE, template_id("booking_cancelled_sms"), personalisation=CANCELLED
    )
    notify.send_email_notification(
        EMAIL, template_id("booking_cancelled_email"), personalisation=CANCELLED
    )

    html = client.get(PAGE, {"to": "okafor@EXAMPLE"}).content.decode()

    assert f"Email to {EMAIL}" in html
    assert "Text message to" not in html
    assert 'value="okafor@EXAMPLE"' in html
    assert "No messages match." in client.get(PAGE, {"to": "nobody"}).content.decode()


def test_the_page_has_the_failure_switch_as_a_form_with_the_current_choice(client):
    set_notify_failure("500")

    html = client.get(PAGE).content.decode()

    assert 'action="/sandbox/notify/behaviour"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    for value, _ in NotifyBehaviour.Failure.choices:
        assert f'value="{value}"' in html
    assert re.search(r'value="500"\s+checked', html)
    assert '<label class="nhsuk-label" for="to">' in html


def test_the_switch_form_changes_how_the_api_answers(client, notify):
    response = client.post(f"{PAGE}behaviour", {"fail_with": "429"})

    assert response.status_code == 302
    assert response["Location"] == PAGE
    assert NotifyBehaviour.current().fail_with == "429"
    with pytest.raises(HTTPError) as refused:
        notify.get_all_notifications()
    assert refused.value.status_code == 429

    client.post(f"{PAGE}behaviour", {"fail_with": ""})
    assert notify.get_all_notifications()["notifications"] == []


def test_the_switch_form_refuses_a_choice_it_does_not_offer(client):
    response = client.post(f"{PAGE}behaviour", {"fail_with": "418"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "<title>Error: " in html
    assert 'href="#fail_with"' in html
    assert NotifyBehaviour.current().fail_with == ""


def test_the_page_forms_need_the_csrf_token(notify):
    notify.send_sms_notification(
        MOBILE, template_id("booking_cancelled_sms"), personalisation=CANCELLED
    )
    strict = Client(enforce_csrf_checks=True)

    assert strict.post(f"{PAGE}behaviour", {"fail_with": "500"}).status_code == 403
    assert strict.post(f"{PAGE}delete-all").status_code == 403
    assert NotifyBehaviour.current().fail_with == ""
    assert len(sent_messages()) == 1


def test_delete_all_forgets_every_message(client, notify):
    notify.send_sms_notification(
        MOBILE, template_id("booking_cancelled_sms"), personalisation=CANCELLED
    )
    notify.send_email_notification(
        EMAIL, template_id("booking_cancelled_email"), personalisation=CANCELLED
    )

    response = client.post(f"{PAGE}delete-all")

    assert response.status_code == 302
    assert sent_messages() == []
    assert "No messages yet." in client.get(PAGE).content.decode()


# --- The admin ----------------------------------------------------------------------------------


def test_an_admin_can_read_messages_and_flip_the_switch(admin_client, notify):
    sent = notify.send_email_notification(
        EMAIL, template_id("booking_cancelled_email"), personalisation=CANCELLED
    )
    NotifyBehaviour.current()

    listing = admin_client.get("/admin/sandbox/notifymessage/")
    detail = admin_client.get(f"/admin/sandbox/notifymessage/{sent['id']}/change/")
    switch = admin_client.get("/admin/sandbox/notifybehaviour/")

    assert listing.status_code == detail.status_code == switch.status_code == 200
    assert EMAIL in listing.content.decode()
    assert "Your GP appointment is cancelled" in detail.content.decode()
    assert 'name="form-0-fail_with"' in switch.content.decode()
    assert admin_client.get("/admin/sandbox/notifymessage/add/").status_code == 403
