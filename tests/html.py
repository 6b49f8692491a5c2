"""Small readers for rendered pages, shared by view tests."""

import re


def error_summary_links(html: str) -> list[tuple[str, str]]:
    """(target id, message) for each link in the page's error summary."""
    if 'class="nhsuk-error-summary' not in html:
        return []
    summary = html.split('class="nhsuk-error-summary', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<a href="#([^"]+)"\s*>\s*([^<]+?)\s*</a>', summary)
