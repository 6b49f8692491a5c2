"""Filling in a template's ((placeholders)), as Notify does.

Placeholder names match personalisation keys whatever their case, spaces, underscores or
hyphens; a placeholder with no value (or null) is an error, keys the template does not use
are ignored.
"""

import re
from dataclasses import dataclass

from gp_sandbox.notify.errors import bad_request
from gp_sandbox.notify.templates import Template

_PLACEHOLDER = re.compile(r"\(\(([^()]+)\)\)")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render(template: Template, personalisation: dict) -> Rendered:
    """The template filled in, or Notify's 400 "Missing personalisation: a, b"."""
    values = {_key(name): value for name, value in personalisation.items() if value is not None}
    missing = [name for name in placeholders(template) if _key(name) not in values]
    if missing:
        raise bad_request(f"Missing personalisation: {', '.join(missing)}")

    def fill(text: str) -> str:
        return _PLACEHOLDER.sub(lambda match: _text(values[_key(match[1])]), text)

    return Rendered(subject=fill(template.subject).strip(), body=fill(template.body).strip())


def placeholders(template: Template) -> list[str]:
    """The template's placeholder names, subject first, each once, as written."""
    names: dict[str, str] = {}
    for text in (template.subject, template.body):
        for match in _PLACEHOLDER.finditer(text):
            names.setdefault(_key(match[1]), match[1].strip())
    return list(names.values())


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


def _text(value: object) -> str:
    if isinstance(value, list):
        return "\n".join(f"* {item}" for item in value)
    return str(value)
