"""The steps of filling in a form, independent of how the browser got there.

The same :class:`FormFlow` serves a personal link (the state in a cookie) and a jobcoach logged in to
the dashboard (the state in the coach's own cookie, the invitation chosen in the workspace): one
rendering and one set of rules for every respondent.
"""

from __future__ import annotations

import datetime as dt
import hmac
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dashboard.forms.pages import (
    render_form_page,
    render_message_page,
    render_review_page,
    t,
)
from dashboard.forms.session import FormState
from questionnaires.action_tags import tags_of
from questionnaires.branching import condition
from questionnaires.completeness import applicable_items, unanswered
from questionnaires.model import Instrument
from questionnaires.validation import validate_answers
from study import responses
from study.clock import Clock
from study.errors import KlikError
from study.models import Invitation
from study.responses import AnswersInvalid, Instruments, LinkGone
from study.vocab import InvitationStatus, ResponseStatus


@dataclass(frozen=True)
class Page:
    """What a step answers: a page to show, or a redirect; and the state to keep (None: drop it)."""

    status: int
    html: str | None = None
    redirect: str | None = None
    state: FormState | None = None


@dataclass(frozen=True)
class FormUrls:
    """Where a form's pages live, so that links and the coach workspace can mount it anywhere."""

    form: str
    submit: str
    script: str = ""

    def section(self, index: int) -> str:
        return f"{self.form}?section={index}"

    def switch(self, lang: str) -> str:
        return f"{self.form}?lang={'nl' if lang == 'en' else 'en'}"


def _revealed(instrument: Instrument, index: int, hidden: frozenset[str], shown: Any) -> bool:
    """Whether saving made a question of this page visible that was not shown when posted."""
    if not isinstance(shown, str):
        return False
    before = {i for i in shown.split(",") if i}
    conditional = {
        it.id
        for it in instrument.section_items(index)
        if condition(it) is not None and not tags_of(it.annotation).hidden
    }
    return any(i not in before and i not in hidden for i in conditional)


def raw_answers(instrument: Instrument, section_id: str, form: Any) -> dict[str, Any]:
    """A section's raw answers from posted form data (a ``MultiDict`` or a plain mapping).

    Multiple-choice items give a list; an item posted more than once that takes one answer also
    gives a list, which validation refuses rather than silently taking one of the values.
    """
    raw: dict[str, Any] = {}
    section = next((s for s in instrument.sections if s.id == section_id), None)
    if section is None:
        return raw
    getlist: Callable[[str], list[Any]] = (
        form.getlist if hasattr(form, "getlist") else lambda k: [form[k]] if k in form else []
    )
    for item_id in section.item_ids:
        values = getlist(item_id)
        if not values:
            continue
        if instrument.item(item_id).type == "multiple" or len(values) > 1:
            raw[item_id] = list(values)
        else:
            raw[item_id] = values[0]
    return raw


@dataclass
class FormFlow:
    """The form steps for one application: show, save a section, submit.

    ``actor`` names who submits in the audit log (e.g. ``link:employee`` or ``jobcoach:jdevries``).
    """

    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    clock: Clock
    instruments: Instruments

    # --- helpers --------------------------------------------------------------------------------

    def _load(self, state: FormState) -> tuple[Invitation | None, dict[str, Any], bool]:
        with self.read_sessions() as s:
            invitation = s.get(Invitation, state.invitation_id)
            response = responses.response_for(s, state.invitation_id)
            answers = dict(response.answers) if response is not None else {}
            submitted = response is not None and response.status == ResponseStatus.SUBMITTED
            if invitation is not None:
                s.expunge(invitation)
        return invitation, answers, submitted

    def _thanks(self, state: FormState, urls: FormUrls) -> Page:
        return Page(
            200,
            render_message_page("thanks", state.lang, switch_href=urls.switch(state.lang)),
            state=state,
        )

    def _gone(self) -> Page:
        return Page(410, render_message_page("link"), state=None)

    def _session_lost(self) -> Page:
        return Page(403, render_message_page("session"), state=None)

    def _stale(self, state: FormState, urls: FormUrls) -> Page:
        return Page(
            400,
            render_message_page("stale", state.lang, link_href=urls.form),
            state=state,
        )

    def _check(
        self, state: FormState | None
    ) -> tuple[Page | None, Invitation | None, dict[str, Any], bool]:
        if state is None:
            return self._session_lost(), None, {}, False
        invitation, answers, submitted = self._load(state)
        if invitation is None or not state.matches(invitation.token_hash):
            return self._session_lost(), None, {}, False
        return None, invitation, answers, submitted

    def _instrument(self, invitation: Invitation) -> Instrument:
        return responses.instrument_for(
            self.instruments, invitation.instrument_id, invitation.instrument_version
        )

    def _events(self, instrument: Instrument, invitation_id: int) -> dict[str, dict[str, Any]]:
        if not any(condition(it) is not None for it in instrument.items):
            return {}
        with self.read_sessions() as s:
            invitation = s.get(Invitation, invitation_id)
            return {} if invitation is None else responses.earlier_waves(s, invitation)

    def _now(self, invitation_id: int) -> dt.datetime:
        with self.read_sessions() as s:
            invitation = s.get(Invitation, invitation_id)
            now = self.clock.now()
            return now if invitation is None else responses.respondent_now(s, invitation, now)

    def _hidden(
        self, instrument: Instrument, invitation_id: int, draft: Mapping[str, Any], lang: str
    ) -> frozenset[str]:
        """The questions the draft's answers hide (their conditions do not hold)."""
        with self.read_sessions() as s:
            invitation = s.get(Invitation, invitation_id)
            if invitation is None:
                return frozenset()
            events = responses.earlier_waves(s, invitation)
            now = responses.respondent_now(s, invitation, self.clock.now())
        return validate_answers(
            instrument, draft, lang, partial=True, now=now, events=events, saved=draft
        ).hidden

    def _checked(
        self, instrument: Instrument, invitation: Invitation, draft: Mapping[str, Any], lang: str
    ) -> responses.CheckedAnswers:
        with self.read_sessions() as s:
            events = responses.earlier_waves(s, invitation)
            now = responses.respondent_now(s, invitation, self.clock.now())
        return responses.check_answers(instrument, draft, lang, now=now, events=events, saved=draft)

    @staticmethod
    def csrf_ok(state: FormState, form: Mapping[str, Any]) -> bool:
        """Whether the posted CSRF value is the session's (compared in constant time)."""
        posted = form.get("_csrf")
        return isinstance(posted, str) and hmac.compare_digest(posted, state.csrf)

    # --- steps ----------------------------------------------------------------------------------

    def show(
        self,
        state: FormState | None,
        urls: FormUrls,
        *,
        lang: str | None = None,
        section: str | None = None,
    ) -> Page:
        """The current page: a section, the review page, or the thank-you page once submitted."""
        problem, invitation, answers, submitted = self._check(state)
        if problem is not None:
            return problem
        assert state is not None and invitation is not None  # narrowed by _check
        if lang in ("nl", "en"):
            state = state.speaking(lang)
        if submitted or invitation.status == InvitationStatus.COMPLETED:
            return self._thanks(state, urls)
        if not responses.is_answerable(invitation, self.clock.now()):
            return self._gone()
        instrument = self._instrument(invitation)
        if section is not None and section.isdigit():
            state = state.at(min(int(section), len(instrument.sections)))
        return self.render(state, urls, instrument, answers)

    def render(
        self,
        state: FormState,
        urls: FormUrls,
        instrument: Instrument,
        values: Mapping[str, Any],
        errors: Mapping[str, str] | None = None,
        *,
        status: int = 200,
        message: str | None = None,
        saved: Mapping[str, Any] | None = None,
    ) -> Page:
        """The page for ``state.section`` with ``values`` and ``errors`` filled in; ``saved`` are
        the stored answers when ``values`` hold typed ones (the page's version is theirs)."""
        index = max(0, min(state.section, len(instrument.sections)))
        state = state.at(index)
        if index == len(instrument.sections):
            hidden = self._hidden(instrument, state.invitation_id, values, state.lang)
            html = render_review_page(
                instrument,
                values,
                lang=state.lang,
                csrf=state.csrf,
                submission_id=uuid.uuid4().hex,
                action=urls.submit,
                edit_href=urls.section,
                switch_href=urls.switch(state.lang),
                message=message,
                open_questions=unanswered(instrument, values, hidden),
                applicable=len(applicable_items(instrument, hidden)),
            )
        else:
            items = responses.section_items(instrument, instrument.sections[index].id)
            html = render_form_page(
                instrument,
                index,
                values,
                errors or {},
                lang=state.lang,
                csrf=state.csrf,
                action=urls.form,
                switch_href=urls.switch(state.lang),
                now=self._now(state.invitation_id),
                events=self._events(instrument, state.invitation_id),
                script_src=urls.script or None,
                version=responses.section_version(values if saved is None else saved, items),
                message=message,
            )
        return Page(status, html, state=state)

    def save(self, state: FormState | None, urls: FormUrls, form: Any) -> Page:
        """Save the posted section; on errors show it again with the messages and typed values."""
        problem, invitation, saved, submitted = self._check(state)
        if problem is not None:
            return problem
        assert state is not None and invitation is not None
        if not self.csrf_ok(state, form):
            return self._stale(state, urls)
        if submitted or invitation.status == InvitationStatus.COMPLETED:
            return self._thanks(state, urls)
        instrument = self._instrument(invitation)
        ids = [s.id for s in instrument.sections]
        section_id = form.get("_section")
        if section_id not in ids:
            return self._stale(state, urls)
        index = ids.index(section_id)
        raw = raw_answers(instrument, section_id, form)
        version = form.get("_version")
        try:
            with self.sessions.begin() as s:
                result = responses.save_section(
                    s,
                    invitation.id,
                    section_id,
                    raw,
                    instruments=self.instruments,
                    lang=state.lang,
                    at=self.clock.now(),
                    shown_version=version if isinstance(version, str) and version else None,
                )
        except LinkGone:
            return self._gone()
        except responses.StaleSection as stale:
            # the newer answers stay; the page comes back with them and says why
            _invitation, current, _submitted = self._load(state)
            return self.render(
                state.at(index), urls, instrument, current, status=409,
                message=stale.message(state.lang).capitalize(),
            )  # fmt: skip
        if not result.ok:
            values = {**saved, **raw}
            return self.render(
                state.at(index), urls, instrument, values, result.errors, status=422, saved=saved
            )
        step = -1 if form.get("_action") == "back" else 1
        if step == 1 and _revealed(instrument, index, result.hidden, form.get("_shown")):
            # Without the script a question that the answers just made relevant was never seen:
            # show the page again (saved) rather than skip it.
            return Page(303, redirect=urls.section(index), state=state.at(index))
        return Page(303, redirect=urls.form, state=state.at(max(0, index + step)))

    def submit(
        self, state: FormState | None, urls: FormUrls, form: Any, *, actor: str | None
    ) -> Page:
        """Submit the saved draft once; a repeated or replayed submission shows the thank-you page.

        ``actor`` None means the respondent through a personal link (``link:<role>`` in the audit
        log).
        """
        problem, invitation, answers, submitted = self._check(state)
        if problem is not None:
            return problem
        assert state is not None and invitation is not None
        if not self.csrf_ok(state, form):
            return self._stale(state, urls)
        instrument = self._instrument(invitation)
        try:
            # Validate and score the draft as read, outside the write transaction (scoring is the
            # slow part); submit() re-checks only if the draft changed in between.
            draft = {k: v for k, v in answers.items() if v is not None}
            checked = (
                None
                if submitted or invitation.status == InvitationStatus.COMPLETED
                else self._checked(instrument, invitation, draft, state.lang)
            )
            with self.sessions.begin() as s:
                responses.submit(
                    s,
                    invitation.id,
                    None,
                    checked=checked,
                    submission_id=form.get("submission_id") or "",
                    instruments=self.instruments,
                    lang=state.lang,
                    actor=actor or f"link:{invitation.respondent}",
                    at=self.clock.now(),
                )
        except AnswersInvalid as exc:
            return self._invalid_submission(state, urls, instrument, answers, exc.errors)
        except LinkGone:
            return self._gone()
        except KlikError as exc:
            return Page(
                exc.status,
                render_message_page("stale", state.lang, link_href=urls.form),
                state=state,
            )
        return Page(303, redirect=urls.form, state=state.at(len(instrument.sections)))

    def _invalid_submission(
        self,
        state: FormState,
        urls: FormUrls,
        instrument: Instrument,
        answers: Mapping[str, Any],
        errors: Mapping[str, str],
    ) -> Page:
        # Show the first part with a problem, with its messages beside the fields.
        for index, section in enumerate(instrument.sections):
            if any(i in errors for i in section.item_ids):
                return self.render(state.at(index), urls, instrument, answers, errors, status=422)
        message = "; ".join(errors.values()) or t("errors_title", state.lang)
        return self.render(
            state.at(len(instrument.sections)),
            urls,
            instrument,
            answers,
            status=422,
            message=message,
        )
