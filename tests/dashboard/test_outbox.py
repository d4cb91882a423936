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
