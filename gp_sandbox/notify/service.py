"""What the stand-in's API does: checks a send request as Notify does, keeps the message, and
describes messages in Notify's JSON.

``url_root`` is the host root the client called (https://host/), for the ``uri`` fields.
"""

import datetime
import uuid
from math import ceil
from urllib.parse import urlencode

from django.db.models import QuerySet

from gp_sandbox.notify.auth import accepted_key
from gp_sandbox.notify.errors import bad_request, not_found, validation_error
from gp_sandbox.notify.models import NotifyBehaviour, NotifyMessage
from gp_sandbox.notify.recipients import check_email_address, check_uk_mobile
from gp_sandbox.notify.rendering import render
from gp_sandbox.notify.templates import EMAIL, SMS, template_with_id

PAGE_SIZE = 250  # Notify's API_PAGE_SIZE
FROM_EMAIL = "gp.appointment.booking@notifications.service.gov.uk"
FROM_NUMBER = "GOVUK"  # Notify's default text message sender
# A stand-in price: Notify's rate per text message fragment changes every April.
SMS_RATE = 0.0227

_RECIPIENT_FIELD = {EMAIL: "email_address", SMS: "phone_number"}
_FIELDS = {
    EMAIL: {
        "email_address",
        "template_id",
        "personalisation",
        "reference",
        "email_reply_to_id",
        "one_click_unsubscribe_url",
        "sanitise_content_for",
    },
    SMS: {"phone_number", "template_id", "personalisation", "reference", "sms_sender_id"},
}
_COMPLETED = {
    NotifyMessage.Status.DELIVERED,
    NotifyMessage.Status.SENT,
    NotifyMessage.Status.PERMANENT_FAILURE,
    NotifyMessage.Status.TEMPORARY_FAILURE,
    NotifyMessage.Status.TECHNICAL_FAILURE,
}
_FAILED = [
    NotifyMessage.Status.PERMANENT_FAILURE,
    NotifyMessage.Status.TEMPORARY_FAILURE,
    NotifyMessage.Status.TECHNICAL_FAILURE,
]
# Every status Notify lets a client filter by, letters' included.
_STATUS_FILTERS = (
    "cancelled",
    "created",
    "sending",
    "sent",
    "delivered",
    "pending",
    "failed",
    "technical-failure",
    "temporary-failure",
    "permanent-failure",
    "pending-virus-check",
    "validation-failed",
    "virus-scan-failed",
    "returned-letter",
    "accepted",
    "received",
)
_TEMPLATE_TYPES = ("sms", "email", "letter")


def switched_failure() -> str:
    """The failure the stand-in has been told to answer with ("" for none)."""
    return NotifyBehaviour.current().fail_with


def send(notification_type: str, data: object, url_root: str) -> dict:
    """Check and keep one email or text message; Notify's 201 body for it."""
    form = _checked_form(notification_type, data)
    template = template_with_id(form["template_id"])
    if template is None:
        raise bad_request("Template not found")
    if template.type != notification_type:
        raise bad_request(
            f"{template.type} template is not suitable for {notification_type} notification"
        )
    rendered = render(template, form.get("personalisation") or {})
    recipient = form[_RECIPIENT_FIELD[notification_type]]
    if notification_type == SMS:
        check_uk_mobile(recipient)

    message = NotifyMessage.objects.create(
        type=notification_type,
        template_name=template.name,
        template_id=template.id,
        template_version=template.version,
        recipient=recipient,
        reference=form.get("reference") or "",
        personalisation=form.get("personalisation") or {},
        subject=rendered.subject if notification_type == EMAIL else "",
        body=rendered.body,
    )
    if notification_type == EMAIL:
        content = {
            "from_email": FROM_EMAIL,
            "body": message.body,
            "subject": message.subject,
            "one_click_unsubscribe_url": form.get("one_click_unsubscribe_url"),
        }
    else:
        content = {"from_number": FROM_NUMBER, "body": message.body}
    return {
        "id": str(message.id),
        "reference": message.reference or None,
        "content": content,
        "uri": f"{url_root}v2/notifications/{message.id}",
        "template": _template_json(message, url_root),
        "scheduled_for": None,
    }


def _checked_form(notification_type: str, data: object) -> dict:
    """The request's fields, or Notify's schema errors (all of them, as Notify lists them)."""
    if not isinstance(data, dict):
        raise validation_error(f"{data!r} is not of type object".replace("'", ""))
    recipient_field = _RECIPIENT_FIELD[notification_type]
    errors = [
        f"{field} is a required property"
        for field in (recipient_field, "template_id")
        if field not in data
    ]
    unexpected = sorted(set(data) - _FIELDS[notification_type])
    if unexpected:
        errors.append(
            f"Additional properties are not allowed ({', '.join(unexpected)} "
            f"{'was' if len(unexpected) == 1 else 'were'} unexpected)"
        )
    if "template_id" in data and not _is_uuid(data["template_id"]):
        errors.append("template_id is not a valid UUID")
    if "personalisation" in data and not isinstance(data["personalisation"], dict):
        errors.append(
            f"personalisation {data['personalisation']!r} is not of type object".replace("'", "")
        )
    for field in ("reference", recipient_field):
        if field in data and not isinstance(data[field], str):
            errors.append(f"{field} {data[field]!r} is not of type string".replace("'", ""))
    if errors:
        raise validation_error(*errors)
    if notification_type == EMAIL:
        check_email_address(data["email_address"])
    return data


def notification(notification_id: str, url_root: str) -> dict:
    if not _is_uuid(notification_id):
        raise validation_error("notification_id is not a valid UUID")
    message = NotifyMessage.objects.filter(pk=notification_id).first()
    if message is None:
        raise not_found()
    return describe(message, url_root)


def notifications(query: dict[str, list[str]], url_root: str) -> dict:
    """Notify's page of notifications, newest first, for GET /v2/notifications?...: filtered
    by ``reference``, ``status``, ``template_type``, and older than ``older_than`` (an id)."""
    data: dict[str, str | list[str]] = {}
    errors = []
    for status in query.get("status", []):
        if status not in _STATUS_FILTERS:
            errors.append(f"status {status} is not one of [{', '.join(_STATUS_FILTERS)}]")
    for template_type in query.get("template_type", []):
        if template_type not in _TEMPLATE_TYPES:
            errors.append(
                f"template_type {template_type} is not one of [{', '.join(_TEMPLATE_TYPES)}]"
            )
    older_than = query.get("older_than", [""])[0]
    if older_than and not _is_uuid(older_than):
        errors.append("older_than is not a valid UUID")
    if errors:
        raise validation_error(*errors)

    messages: QuerySet[NotifyMessage] = NotifyMessage.objects.all()
    if "reference" in query:
        data["reference"] = query["reference"][0]
        messages = messages.filter(reference=data["reference"])
    if query.get("status"):
        data["status"] = query["status"]
        statuses = [
            s for status in data["status"] for s in (_FAILED if status == "failed" else [status])
        ]
        messages = messages.filter(status__in=statuses)
    if query.get("template_type"):
        data["template_type"] = query["template_type"]
        messages = messages.filter(type__in=data["template_type"])
    if older_than:
        data["older_than"] = older_than
        pivot = NotifyMessage.objects.filter(pk=older_than).first()
        messages = messages.filter(created_at__lt=pivot.created_at) if pivot else messages.none()

    page = list(messages.order_by("-created_at")[:PAGE_SIZE])
    links = {"current": _list_url(url_root, data)}
    if page:
        links["next"] = _list_url(url_root, {**data, "older_than": str(page[-1].id)})
    return {"notifications": [describe(message, url_root) for message in page], "links": links}


def describe(message: NotifyMessage, url_root: str) -> dict:
    """A notification as Notify's GET endpoints describe it."""
    created_at = _timestamp(message.created_at)
    described = {
        "id": str(message.id),
        "reference": message.reference or None,
        "email_address": message.recipient if message.type == EMAIL else None,
        "phone_number": message.recipient if message.type == SMS else None,
        "line_1": None,
        "line_2": None,
        "line_3": None,
        "line_4": None,
        "line_5": None,
        "line_6": None,
        "postcode": None,
        "type": message.type,
        "status": message.status,
        "template": _template_json(message, url_root),
        "body": message.body,
        "subject": message.subject if message.type == EMAIL else None,
        "created_at": created_at,
        "created_by_name": None,
        # The stand-in sends and delivers in the moment it accepts.
        "sent_at": created_at,
        "completed_at": created_at if message.status in _COMPLETED else None,
        "scheduled_for": None,
        "postage": None,
        "one_click_unsubscribe_url": None,
        "cost_details": {},
        "cost_in_pounds": 0.0,
        "is_cost_data_ready": True,
    }
    if message.type == SMS:
        fragments = 1 if len(message.body) <= 160 else ceil(len(message.body) / 153)
        described["cost_details"] = {
            "billable_sms_fragments": fragments,
            "international_rate_multiplier": 1.0,
            "sms_rate": SMS_RATE,
        }
        described["cost_in_pounds"] = round(fragments * SMS_RATE, 4)
    return described


def _template_json(message: NotifyMessage, url_root: str) -> dict:
    service_id, _ = accepted_key()
    return {
        "id": str(message.template_id),
        "version": message.template_version,
        "uri": f"{url_root}services/{service_id}/templates/{message.template_id}",
    }


def _list_url(url_root: str, data: dict) -> str:
    query = urlencode(data, doseq=True)
    return f"{url_root}v2/notifications" + (f"?{query}" if query else "")


def _timestamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
