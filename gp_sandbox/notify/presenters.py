"""How the mail-catcher page shows a message: as a patient would read it, links clickable."""

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone
from markupsafe import Markup, escape

from gp_sandbox.notify.models import NotifyMessage

# Links as Notify finds them in a plain-text body; trailing punctuation ends a sentence.
_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)"


@dataclass(frozen=True)
class MessageView:
    heading: str
    template_name: str
    sent: str
    reference: str
    subject: str
    body_html: Markup


def present(message: NotifyMessage) -> MessageView:
    return MessageView(
        heading=f"{message.get_type_display()} to {message.recipient}",
        template_name=message.template_name,
        sent=_when(message.created_at),
        reference=message.reference or "None",
        subject=message.subject,
        body_html=linked_text(message.body),
    )


def linked_text(text: str) -> Markup:
    """Plain text as HTML paragraphs, every http(s) URL a link, everything else escaped."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return Markup("").join(
        Markup('<p class="nhsuk-body">{}</p>').format(
            Markup("<br>").join(_linked_line(line) for line in paragraph.split("\n"))
        )
        for paragraph in paragraphs
    )


def _linked_line(line: str) -> Markup:
    pieces = []
    position = 0
    for match in _URL.finditer(line):
        url = match[0].rstrip(_TRAILING)
        pieces.append(escape(line[position : match.start()]))
        pieces.append(Markup('<a class="nhsuk-link" href="{0}">{0}</a>').format(url))
        position = match.start() + len(url)
    pieces.append(escape(line[position:]))
    return Markup("").join(pieces)


def _when(moment: datetime.datetime) -> str:
    """Monday 22 March 2027 at 9:00:05am: to the second, as testers look for one message."""
    local = timezone.localtime(moment)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{local:%A} {local.day} {local:%B %Y} at {hour}:{local:%M:%S}{suffix}"
