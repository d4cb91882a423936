"""Whole HTML pages of a form: the page around a section, the review page and message pages.

Pure functions from data to HTML text. The section itself comes from
:func:`questionnaires.render.render_section`; these add the document, a small inline style sheet
that works from a 360-pixel-wide phone up, the form element, the CSRF field, buttons, progress and
the language switch. Nothing needs JavaScript.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from markupsafe import Markup

from questionnaires.model import Instrument, Item
from questionnaires.render import render_section
from questionnaires.richtext import plain_text

LANGS = ("nl", "en")

TEXTS: dict[str, dict[str, str]] = {
    "next": {"nl": "Volgende", "en": "Next"},
    "back": {"nl": "Vorige", "en": "Previous"},
    "to_review": {"nl": "Verder naar verzenden", "en": "Continue to sending"},
    "part": {"nl": "Deel {i} van {n}", "en": "Part {i} of {n}"},
    "saved_note": {
        "nl": "De antwoorden worden per deel bewaard. Later verdergaan kan met dezelfde link.",
        "en": "The answers are saved part by part. You can continue later with the same link.",
    },
    "errors_title": {
        "nl": "Nog niet alles is goed ingevuld",
        "en": "Not everything is filled in correctly yet",
    },
    "review_title": {"nl": "Controleren en verzenden", "en": "Check and send"},
    "review_intro": {
        "nl": "Kijk de antwoorden na. Na het verzenden kunnen ze niet meer worden gewijzigd.",
        "en": "Please check the answers. After sending they can no longer be changed.",
    },
    "edit": {"nl": "Wijzigen", "en": "Change"},
    "edit_part": {"nl": "Wijzig deel {i}: {title}", "en": "Change part {i}: {title}"},
    "not_answered": {"nl": "niet beantwoord", "en": "not answered"},
    "open_questions": {
        "nl": "{n} van de {total} vragen zijn nog niet beantwoord. U kunt ze nu beantwoorden of "
        "toch verzenden.",
        "en": "{n} of the {total} questions have not been answered yet. You can answer them now "
        "or send anyway.",
    },
    "open_question": {
        "nl": "1 van de {total} vragen is nog niet beantwoord. U kunt die nu beantwoorden of "
        "toch verzenden.",
        "en": "1 of the {total} questions has not been answered yet. You can answer it now or "
        "send anyway.",
    },
    "in_part": {"nl": "deel {i}", "en": "part {i}"},
    "only_in": {
        "nl": "Deze vragenlijst is alleen beschikbaar in het {language}; de vragen staan hieronder "
        "in die taal.",
        "en": "This questionnaire is only available in {language}; the questions below are in "
        "that language.",
    },
    "send": {"nl": "Verzenden", "en": "Send"},
    "thanks_title": {"nl": "Bedankt!", "en": "Thank you!"},
    "thanks_body": {
        "nl": "De antwoorden zijn goed ontvangen. Deze vragenlijst is nu afgesloten.",
        "en": "The answers have been received. This questionnaire is now closed.",
    },
    "link_title": {"nl": "Deze link werkt niet (meer)", "en": "This link does not work (any more)"},
    "link_body": {
        "nl": "Misschien is de vragenlijst al verzonden, is de termijn voorbij, of is de link "
        "niet helemaal overgenomen. Vragen? Neem contact op met de jobcoach of met de onderzoekers.",
        "en": "The questionnaire may have been sent already, its time may be up, or the link "
        "may not have been copied completely. Questions? Please contact the jobcoach or the "
        "researchers.",
    },
    "session_title": {"nl": "Open de link opnieuw", "en": "Please open the link again"},
    "session_body": {
        "nl": "Deze pagina is verlopen of in een andere browser geopend. Open de link uit de "
        "e-mail of het bericht opnieuw; antwoorden die al bewaard zijn, blijven bewaard.",
        "en": "This page has expired or was opened in another browser. Please open the link "
        "from the e-mail or message again; answers already saved are kept.",
    },
    "stale_title": {"nl": "Probeer het opnieuw", "en": "Please try again"},
    "stale_body": {
        "nl": "Dit formulier was verlopen en is niet verwerkt. Ga terug naar de vragenlijst en "
        "probeer het opnieuw.",
        "en": "This form had expired and was not processed. Please return to the questionnaire "
        "and try again.",
    },
    "back_to_form": {"nl": "Terug naar de vragenlijst", "en": "Back to the questionnaire"},
    "throttled_title": {"nl": "Even wachten", "en": "Please wait"},
    "throttled_body": {
        "nl": "Vanaf dit adres zijn te veel links geprobeerd die niet werken. Probeer het over "
        "een kwartier opnieuw.",
        "en": "Too many links that do not work were tried from this address. Please try again "
        "in a quarter of an hour.",
    },
    "error_title": {"nl": "Er ging iets mis", "en": "Something went wrong"},
    "error_body": {
        "nl": "De pagina kon niet worden getoond. Antwoorden die al bewaard zijn, blijven "
        "bewaard. Probeer het later opnieuw.",
        "en": "The page could not be shown. Answers already saved are kept. Please try again "
        "later.",
    },
    "opening_title": {"nl": "De vragenlijst wordt geopend", "en": "Opening the questionnaire"},
    "continue": {"nl": "Ga verder naar de vragenlijst", "en": "Continue to the questionnaire"},
    "switch": {"nl": "Nederlands", "en": "English"},
}

STYLE = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#1b1b1b;background:#f6f7f9}
header{display:flex;justify-content:space-between;align-items:center;padding:.5rem 1rem;
background:#1f4e79;color:#fff}
header .brand{font-weight:700;letter-spacing:.02em}
header a{color:#fff;padding:.5rem;min-height:44px;display:inline-flex;align-items:center}
main{max-width:42rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;line-height:1.3;margin:.25rem 0 .5rem}
h2{font-size:1.15rem;margin:1.25rem 0 .5rem}
.progress{color:#444;margin:0 0 .25rem}
.bar{height:.5rem;background:#dde3ea;border-radius:.25rem;overflow:hidden;margin-bottom:1rem}
.bar span{display:block;height:100%;background:#1f4e79}
.note{color:#444;font-size:.95rem}
fieldset{border:0;margin:0;padding:0;min-width:0}
.klik-section>legend{font-size:1.2rem;font-weight:700;margin-bottom:.5rem;padding:0}
.klik-intro{margin-top:0}
.klik-item{background:#fff;border:1px solid #d5dbe1;border-radius:.5rem;padding:.75rem;
margin:0 0 .75rem}
.klik-item>legend,.klik-item>label{font-weight:600;display:block;padding:0;margin-bottom:.25rem}
.klik-item legend{float:left;width:100%}
.klik-item legend+*{clear:both}
.klik-matrix{list-style:none;margin:0;padding:0}
.klik-options{clear:both}
.klik-option{display:flex;align-items:center;gap:.5rem;border-top:1px solid #eef1f4}
.klik-option:first-child{border-top:0}
.klik-option input{width:1.35rem;height:1.35rem;margin:0;flex:none;accent-color:#1f4e79}
.klik-option label{flex:1;padding:.55rem 0;min-height:44px;display:flex;align-items:center;
cursor:pointer}
input[type=text],input[type=date],select,textarea{width:100%;font:inherit;padding:.6rem;
border:1px solid #8a96a3;border-radius:.35rem;background:#fff;min-height:44px}
.klik-required{font-weight:400;color:#555;font-size:.9rem}
.klik-help{color:#444;font-size:.95rem;margin:.25rem 0}
.klik-header{font-weight:700;font-size:1.15rem;margin:1.5rem 0 .5rem;color:#1f4e79}
.klik-calc-value{font-weight:700;margin-left:.25rem}
.klik-error{color:#a00020;font-weight:600;margin:.25rem 0}
.klik-has-error{border:2px solid #a00020;border-left-width:.4rem}
.summary{border:2px solid #a00020;background:#fff;border-radius:.5rem;padding:.75rem;margin:0 0 1rem}
.summary h2{margin:0 0 .25rem;font-size:1.05rem;color:#a00020}
.summary a{color:#a00020}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0 2rem}
button,.button{font:inherit;font-weight:600;min-height:48px;padding:.6rem 1.25rem;
border-radius:.4rem;border:2px solid #1f4e79;background:#fff;color:#1f4e79;cursor:pointer;
text-decoration:none;display:inline-flex;align-items:center;justify-content:center}
button.primary{background:#1f4e79;color:#fff;flex:1 1 12rem}
:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}
dl{margin:0}
dt{font-weight:600;margin-top:.5rem}
dd{margin:0 0 .25rem}
.review-part{background:#fff;border:1px solid #d5dbe1;border-radius:.5rem;padding:.75rem;
margin-bottom:.75rem}
.review-part h2{margin-top:0}
.unanswered{color:#666;font-style:italic}
.message{background:#fff;border:1px solid #d5dbe1;border-radius:.5rem;padding:1rem;margin:1rem 0}
@media (min-width:40rem){main{padding:1.5rem}h1{font-size:1.6rem}}
""".strip()


def t(key: str, lang: str, **kwargs: Any) -> str:
    """A text of the form pages in ``lang`` (Dutch unless English is asked for)."""
    texts = TEXTS[key]
    return texts["en" if lang == "en" else "nl"].format(**kwargs)


def other_lang(lang: str) -> str:
    """The language the switch offers."""
    return "nl" if lang == "en" else "en"


def page_shell(
    *,
    title: str,
    body: Markup | str,
    lang: str,
    switch_href: str | None = None,
    head_extra: Markup | str = "",
) -> str:
    """A complete HTML document with the inline style sheet and, optionally, a language switch."""
    switch = Markup("")
    if switch_href:
        other = other_lang(lang)
        switch = Markup('<a href="{}" lang="{}" hreflang="{}">{}</a>').format(
            switch_href, other, other, t("switch", other)
        )
    return str(
        Markup(
            '<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="no-referrer">'
            "<title>{title} · Klik</title>{head}<style>{style}</style></head><body>"
            '<header><span class="brand">Klik</span>{switch}</header>'
            "<main>{body}</main></body></html>"
        ).format(
            lang=lang,
            title=title,
            head=Markup(head_extra),
            style=Markup(STYLE),
            switch=switch,
            body=Markup(body),
        )
    )


LANGUAGE_NAMES = {
    "nl": {"nl": "Nederlands", "en": "Dutch"},
    "en": {"nl": "Engels", "en": "English"},
}


def _fallback_note(instrument: Instrument, lang: str) -> Markup:
    """A note when the instrument is not in ``lang``: its texts are shown in its own language."""
    if lang in instrument.languages or not instrument.languages:
        return Markup("")
    own = instrument.languages[0]
    language = LANGUAGE_NAMES.get(own, {}).get(lang, own)
    return Markup('<p class="note" id="language-note">{}</p>').format(
        t("only_in", lang, language=language)
    )


def _text(text: Mapping[str, str] | None, lang: str) -> str:
    if not text:
        return ""
    return text.get(lang) or text.get("nl") or next(iter(text.values()))


def _progress(index: int, total: int, lang: str) -> Markup:
    percent = round(100 * index / max(total, 1))
    return Markup(
        '<p class="progress">{}</p><div class="bar" aria-hidden="true"><span style="width:{}%">'
        "</span></div>"
    ).format(t("part", lang, i=index + 1, n=total), percent)


def _error_summary(
    instrument: Instrument, section_index: int, errors: Mapping[str, str], lang: str
) -> Markup:
    if not errors:
        return Markup("")
    ids = list(instrument.sections[section_index].item_ids)
    rows = []
    for item_id in sorted(errors, key=lambda i: ids.index(i) if i in ids else -1):
        if item_id in ids:
            label = plain_text(_text(instrument.item(item_id).text, lang))
            rows.append(
                Markup('<li><a href="#q-{}">{}</a>: {}</li>').format(
                    item_id, label, errors[item_id]
                )
            )
        else:
            rows.append(Markup("<li>{}</li>").format(errors[item_id]))
    return Markup(
        '<div class="summary" role="alert" aria-labelledby="summary-title">'
        '<h2 id="summary-title">{}</h2><ul>{}</ul></div>'
    ).format(t("errors_title", lang), Markup("").join(rows))


def render_form_page(
    instrument: Instrument,
    section_index: int,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    *,
    lang: str,
    csrf: str,
    action: str,
    switch_href: str | None = None,
    now: dt.datetime | None = None,
    events: Mapping[str, Mapping[str, Any]] | None = None,
    script_src: str | None = None,
    version: str = "",
    message: str | None = None,
) -> str:
    """One section of a form as a complete page.

    Parameters
    ----------
    instrument, section_index, values, errors, lang
        As for :func:`questionnaires.render.render_section` (values typed or as posted).
    csrf
        The form session's CSRF value, posted back in ``_csrf``.
    action
        The URL the form posts to; it receives ``_csrf``, ``_section`` (the section id),
        ``_action`` (``next`` or ``back``) and the answers named by item id.
    switch_href
        Where the language switch points (omitted when None).
    now
        The moment the page is shown (``@NOW`` and ``@TODAY`` defaults).
    events
        Earlier waves' answers by wave code, for conditions that read them.
    script_src
        Where the branching script is served; it is loaded only by pages with conditions
        (the page works without it: the server applies the conditions on saving).
    version
        The fingerprint of the section's saved answers, posted back in ``_version`` so that a
        save from a stale page is refused (:func:`study.responses.section_version`).
    message
        A notice shown above the questions (e.g. why the page is shown again).
    """
    total = len(instrument.sections)
    section = instrument.sections[section_index]
    last = section_index == total - 1
    buttons = Markup(
        '<button type="submit" name="_action" value="next" class="primary">{}</button>'
    )
    buttons = buttons.format(t("to_review" if last else "next", lang))
    if section_index > 0:
        # After "next" in document order, so Enter in a text field saves and goes forward.
        buttons += Markup('<button type="submit" name="_action" value="back">{}</button>').format(
            t("back", lang)
        )
    fields = Markup(
        render_section(instrument, section_index, values, errors, lang, now=now, events=events)
    )
    body = Markup(
        "<h1>{title}</h1>{fallback}{progress}{notice}{summary}"
        '<form method="post" action="{action}" novalidate accept-charset="utf-8">'
        '<input type="hidden" name="_csrf" value="{csrf}">'
        '<input type="hidden" name="_section" value="{section}">'
        '<input type="hidden" name="_version" value="{version}">'
        '{fields}<div class="actions">{buttons}</div></form><p class="note">{note}</p>{script}'
    ).format(
        title=_text(instrument.title, lang),
        fallback=_fallback_note(instrument, lang),
        progress=_progress(section_index, total, lang),
        notice=Markup('<div class="summary" role="alert"><p>{}</p></div>').format(message)
        if message
        else "",
        summary=_error_summary(instrument, section_index, errors, lang),
        action=action,
        csrf=csrf,
        section=section.id,
        version=version,
        fields=fields,
        buttons=buttons,
        note=t("saved_note", lang),
        script=Markup('<script src="{}" defer></script>').format(script_src)
        if script_src and 'id="klik-logic"' in fields
        else "",
    )
    title = f"{_text(section.title, lang)} · {_text(instrument.title, lang)}"
    return page_shell(title=title, body=body, lang=lang, switch_href=switch_href)


def answer_label(item: Item, value: Any, lang: str) -> str | None:
    """How an answer reads on the review page: option labels for choices; None when unanswered."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list | tuple):
        return ", ".join(answer_label(item, v, lang) or "" for v in value)
    option = item.option(value) if item.options else None
    if option is not None:
        return plain_text(_text(option.label, lang))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render_review_page(
    instrument: Instrument,
    answers: Mapping[str, Any],
    *,
    lang: str,
    csrf: str,
    submission_id: str,
    action: str,
    edit_href: Callable[[int], str],
    switch_href: str | None = None,
    message: str | None = None,
    open_questions: Sequence[tuple[int, Item]] = (),
    applicable: int = 0,
) -> str:
    """The last page: the questions still open (each linking to its part), every answer by
    part, a change link per part, and the send button.

    The form posts ``_csrf`` and ``submission_id`` to ``action``; the submission id makes a double
    click or a replayed request record one response. ``open_questions`` are (part index, item)
    of the ``applicable`` questions the respondent could answer
    (:func:`questionnaires.completeness.unanswered`).
    """
    parts = []
    for index, section in enumerate(instrument.sections):
        rows = []
        for item in instrument.section_items(index):
            if not item.answerable:
                continue
            label = answer_label(item, answers.get(item.id), lang)
            shown = (
                Markup("{}").format(label)
                if label is not None
                else Markup('<span class="unanswered">{}</span>').format(t("not_answered", lang))
            )
            rows.append(
                Markup("<dt>{}</dt><dd>{}</dd>").format(plain_text(_text(item.text, lang)), shown)
            )
        title = _text(section.title, lang)
        parts.append(
            Markup(
                '<section class="review-part" aria-labelledby="part-{id}"><h2 id="part-{id}">{title}'
                '</h2><dl>{rows}</dl><p><a href="{href}" aria-label="{aria}">{edit}</a></p></section>'
            ).format(
                id=section.id,
                title=title,
                rows=Markup("").join(rows),
                href=edit_href(index),
                aria=t("edit_part", lang, i=index + 1, title=title),
                edit=t("edit", lang),
            )
        )
    notice = (
        Markup('<div class="summary" role="alert"><p>{}</p></div>').format(message)
        if message
        else Markup("")
    )
    if open_questions:
        key = "open_question" if len(open_questions) == 1 else "open_questions"
        links = Markup("").join(
            Markup('<li><a href="{}">{}</a> ({})</li>').format(
                edit_href(index),
                plain_text(_text(item.text, lang)),
                t("in_part", lang, i=index + 1),
            )
            for index, item in open_questions
        )
        notice += Markup(
            '<div class="summary open-questions" id="open-questions"><p>{}</p><ul>{}</ul></div>'
        ).format(t(key, lang, n=len(open_questions), total=applicable), links)
    body = Markup(
        "<h1>{title}</h1>{fallback}<h2>{review}</h2>{notice}<p>{intro}</p>{parts}"
        '<form method="post" action="{action}">'
        '<input type="hidden" name="_csrf" value="{csrf}">'
        '<input type="hidden" name="submission_id" value="{sid}">'
        '<div class="actions"><button type="submit" class="primary">{send}</button></div></form>'
    ).format(
        title=_text(instrument.title, lang),
        fallback=_fallback_note(instrument, lang),
        review=t("review_title", lang),
        notice=notice,
        intro=t("review_intro", lang),
        parts=Markup("").join(parts),
        action=action,
        csrf=csrf,
        sid=submission_id,
        send=t("send", lang),
    )
    return page_shell(title=t("review_title", lang), body=body, lang=lang, switch_href=switch_href)


def render_message_page(
    kind: str,
    lang: str | None = None,
    *,
    switch_href: str | None = None,
    link_href: str | None = None,
    link_key: str = "back_to_form",
    head_extra: Markup | str = "",
) -> str:
    """A page with one message (``kind`` is ``thanks``, ``link``, ``session``, ``stale``,
    ``throttled``, ``error`` or ``opening``).

    With ``lang`` None the message is shown in Dutch and then in English: pages reached without a
    form session (a broken link) do not know the reader's language yet.
    """
    langs = [lang] if lang else list(LANGS)
    blocks = []
    for code in langs:
        link = (
            Markup('<p><a class="button" href="{}">{}</a></p>').format(link_href, t(link_key, code))
            if link_href
            else Markup("")
        )
        body_key = f"{kind}_body"
        text = Markup("<p>{}</p>").format(t(body_key, code)) if body_key in TEXTS else Markup("")
        blocks.append(
            Markup('<div class="message" lang="{}"><h1>{}</h1>{}{}</div>').format(
                code, t(f"{kind}_title", code), text, link
            )
        )
    return page_shell(
        title=t(f"{kind}_title", langs[0]),
        body=Markup("").join(blocks),
        lang=langs[0],
        switch_href=switch_href,
        head_extra=head_extra,
    )


def opening_page(target: str) -> str:
    """The page a personal link answers with: it moves on to ``target`` at once.

    A meta refresh rather than an HTTP redirect: the form-session cookie is SameSite=Strict, and
    browsers do not send such a cookie on a redirect that started from a link in a mail program or
    webmail site; a refresh starts a new, same-site navigation, which does carry it.
    """
    head = Markup('<meta http-equiv="refresh" content="0;url={}">').format(target)
    return render_message_page(
        "opening", None, link_href=target, link_key="continue", head_extra=head
    )


__all__ = [
    "TEXTS",
    "answer_label",
    "opening_page",
    "page_shell",
    "render_form_page",
    "render_message_page",
    "render_review_page",
    "t",
]
