"""Outbox and scheduler status page: researchers only."""

from __future__ import annotations

from tests.dashboard.conftest import Env, dash_post, route_to


def _update(client):
    return dash_post(
        client, [("outbox-content", "children")], [("outbox-refresh", "n_intervals", 1)]
    )


def test_researcher_sees_outbox_counts(forms_env: Env) -> None:
    body = _update(forms_env.login("researcher")).get_data(as_text=True)
    assert "Verzonden" in body or "Wacht op verzending" in body
    assert "mail.example" not in body  # recipients' addresses are not shown


def test_others_are_refused(forms_env: Env) -> None:
    for user in ("coach1", "viewer"):
        c = forms_env.login(user)
        assert _update(c).status_code == 403
        assert "geen toegang" in route_to(c, "/outbox").get_data(as_text=True)


def _fail_some(env: Env, n: int) -> list[int]:
    """Mark ``n`` open invitations' sent mail as failed, as after a long outage."""
    from sqlalchemy import select, update

    from study.models import Invitation, Outbox

    with env.container.sessions.begin() as s:
        ids = list(
            s.scalars(
                select(Outbox.id)
                .join(Invitation, Invitation.id == Outbox.invitation_id)
                .where(Invitation.status == "open", Outbox.kind == "invitation")
                .order_by(Outbox.id)
                .limit(n)
            )
        )
        s.execute(
            update(Outbox)
            .where(Outbox.id.in_(ids))
            .values(status="failed", last_error="SMTPServerDisconnected: storing")
        )
    return ids


def _resend(client, button: str, picked: object = None, kind: object = "invitation"):
    return dash_post(
        client,
        [("outbox-resend-msg", "children"), ("outbox-refresh", "n_intervals")],
        # the clicked button first: its change is what triggers the callback
        sorted(
            [("outbox-resend-picked", "n_clicks", 1), ("outbox-resend-all", "n_clicks", 1)],
            key=lambda i: i[0] != button,
        ),
        [("outbox-resend-pick", "value", picked), ("outbox-resend-kind", "value", kind)],
    )


def test_the_researcher_sees_failing_mail_and_resends_it_audited(forms_env: Env) -> None:
    from sqlalchemy import func, select

    from study.models import AuditEvent, Outbox

    failed = _fail_some(forms_env, 3)
    assert len(failed) == 3
    client = forms_env.login("researcher")
    body = _update(client).get_data(as_text=True)
    assert "E-mail komt niet aan" in body and "3 mislukt" in body and "storing" in body
    # one chosen row, then all of a kind; crafted values are ignored
    one = _resend(client, "outbox-resend-picked", [failed[0], "1; drop", True])
    assert "1 opnieuw in de wachtrij" in one.get_data(as_text=True)
    rest = _resend(client, "outbox-resend-all", kind="invitation")
    assert "2 opnieuw in de wachtrij" in rest.get_data(as_text=True)
    assert "Kies eerst" in _resend(client, "outbox-resend-all", kind="x").get_data(as_text=True)
    with forms_env.container.read_sessions() as s:
        still_failed = s.scalar(select(func.count()).where(Outbox.status == "failed"))
        audited = s.scalar(select(func.count()).where(AuditEvent.action == "mail.resend"))
    assert (still_failed, audited) == (0, 3)
    assert "E-mail komt niet aan" not in _update(client).get_data(as_text=True)


def test_others_cannot_resend(forms_env: Env) -> None:
    failed = _fail_some(forms_env, 1)
    for user in ("coach1", "viewer"):
        c = forms_env.login(user)
        assert _resend(c, "outbox-resend-picked", failed).status_code == 403


def test_the_monitor_warns_researchers_when_mail_fails(forms_env: Env) -> None:
    researcher, viewer = forms_env.login("researcher"), forms_env.login("viewer")
    assert "E-mail komt niet aan" not in route_to(researcher, "/monitor").get_data(as_text=True)
    _fail_some(forms_env, 2)
    body = route_to(researcher, "/monitor").get_data(as_text=True)
    assert "E-mail komt niet aan" in body and "2 mislukt" in body and "/outbox" in body
    assert "E-mail komt niet aan" not in route_to(viewer, "/monitor").get_data(as_text=True)
