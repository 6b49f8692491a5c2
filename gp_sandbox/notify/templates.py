"""The site's templates, as its service team would have written them in GOV.UK Notify.

Notify holds the words; the site only names a template (its id comes from
settings.NOTIFY_TEMPLATE_IDS) and sends the values for the ((placeholders)). Email bodies are
Notify's plain-text markdown, with links written out in full.
"""

from dataclasses import dataclass

from django.conf import settings

EMAIL = "email"
SMS = "sms"


@dataclass(frozen=True)
class Template:
    name: str
    type: str
    body: str
    subject: str = ""
    version: int = 1

    @property
    def id(self) -> str:
        return settings.NOTIFY_TEMPLATE_IDS[self.name]


_DO_NOT_REPLY = "Do not reply to this email."

TEMPLATES = {
    template.name: template
    for template in (
        Template(
            name="booking_confirmed_email",
            type=EMAIL,
            subject="Your GP appointment is booked",
            body=(
                "Your appointment at ((practice_name)) is booked.\n\n"
                "It is on ((appointment_day)) at ((appointment_time)).\n\n"
                "((what_to_do))\n\n"
                "To see your appointment or cancel it, go to:\n"
                "((appointment_url))\n\n"
                "You can also cancel by phoning the practice on ((practice_phone)). If you cannot "
                "go, please cancel so that someone else can have the appointment.\n\n"
                f"{_DO_NOT_REPLY}"
            ),
        ),
        Template(
            name="booking_confirmed_sms",
            type=SMS,
            body=(
                "Your appointment at ((practice_name)) is booked for ((appointment_day)) at "
                "((appointment_time)). ((what_to_do)) To cancel, go to ((appointment_url)) or "
                "phone ((practice_phone))."
            ),
        ),
        Template(
            name="booking_cancelled_email",
            type=EMAIL,
            subject="Your GP appointment is cancelled",
            body=(
                "Your appointment at ((practice_name)) on ((appointment_day)) at "
                "((appointment_time)) is cancelled.\n\n"
                "If you still need an appointment, you can book another one:\n"
                "((book_url))\n\n"
                "If you did not cancel this appointment, contact ((practice_name)).\n\n"
                f"{_DO_NOT_REPLY}"
            ),
        ),
        Template(
            name="booking_cancelled_sms",
            type=SMS,
            body=(
                "Your appointment at ((practice_name)) on ((appointment_day)) at "
                "((appointment_time)) is cancelled. To book another, go to ((book_url))"
            ),
        ),
        Template(
            name="reminder_email",
            type=EMAIL,
            subject="Reminder: your GP appointment is tomorrow",
            body=(
                "You have an appointment at ((practice_name)) tomorrow, ((appointment_day)), at "
                "((appointment_time)).\n\n"
                "((what_to_do))\n\n"
                "If you cannot go, please cancel so that someone else can have the appointment. "
                "To see your appointment or cancel it, go to:\n"
                "((appointment_url))\n\n"
                "You can also phone the practice on ((practice_phone)).\n\n"
                f"{_DO_NOT_REPLY}"
            ),
        ),
        Template(
            name="reminder_sms",
            type=SMS,
            body=(
                "Reminder: you have an appointment at ((practice_name)) tomorrow, "
                "((appointment_day)), at ((appointment_time)). ((what_to_do)) If you cannot go, "
                "cancel at ((appointment_url)) or phone ((practice_phone))."
            ),
        ),
        Template(
            name="earlier_appointment_email",
            type=EMAIL,
            subject="An earlier GP appointment is free at ((practice_name))",
            body=(
                "An earlier appointment is free at ((practice_name)) on ((appointment_day)) at "
                "((appointment_time)).\n\n"
                "It is not booked for you, and someone else may book it first.\n\n"
                "To see it and book it, go to:\n"
                "((search_url))\n\n"
                "If it has gone, you will see any other free appointments that day.\n\n"
                "To stop these messages, go to:\n"
                "((stop_url))\n\n"
                f"{_DO_NOT_REPLY}"
            ),
        ),
        Template(
            name="earlier_appointment_sms",
            type=SMS,
            body=(
                "An earlier appointment is free at ((practice_name)) on ((appointment_day)) at "
                "((appointment_time)). Someone else may book it first. To book it, go to:\n"
                "((search_url))\n"
                "To stop these messages, go to:\n"
                "((stop_url))"
            ),
        ),
    )
}


def template_with_id(template_id: str) -> Template | None:
    """The template Notify would find for this id, if the service has one."""
    for name, known_id in settings.NOTIFY_TEMPLATE_IDS.items():
        if known_id.lower() == template_id.lower() and name in TEMPLATES:
            return TEMPLATES[name]
    return None
