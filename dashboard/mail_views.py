"""The warning researchers see when mail is failing (monitor and outbox pages)."""

from __future__ import annotations

import pandas as pd
from dash import dcc, html

from study.mail.status import MailTrouble

T = {
    "head": {"nl": "E-mail komt niet aan", "en": "Mail is not getting through"},
    "counts": {
        "nl": "{failed} mislukt, {retrying} worden opnieuw geprobeerd; sinds {since} (UTC).",
        "en": "{failed} failed, {retrying} being retried; since {since} (UTC).",
    },
    "error": {"nl": "Laatste fout: {error}", "en": "Last error: {error}"},
    "what": {
        "nl": "Mislukte mail kunt u opnieuw versturen op de pagina Verzending.",
        "en": "Failed mail can be resent from the Outbox page.",
    },
    "link": {"nl": "Naar Verzending", "en": "Go to the Outbox"},
}


def mail_trouble_banner(trouble: MailTrouble, lang: str, *, link: bool = True) -> html.Div | None:
    """A warning with how many mails fail and since when, or None when all mail gets through."""
    if not trouble.any:
        return None
    since = pd.Timestamp(trouble.since).strftime("%Y-%m-%d %H:%M") if trouble.since else "?"
    lines: list[object] = [
        html.Strong(T["head"][lang]),
        html.P(
            T["counts"][lang].format(failed=trouble.failed, retrying=trouble.retrying, since=since)
        ),
    ]
    if trouble.last_error:
        lines.append(
            html.P(T["error"][lang].format(error=trouble.last_error[:300]), className="klik-muted")
        )
    if trouble.failed:
        lines.append(html.P(T["what"][lang]))
    if link:
        lines.append(dcc.Link(T["link"][lang], href="/outbox"))
    return html.Div(lines, className="klik-warn", role="alert", id="mail-trouble")  # fmt: skip
