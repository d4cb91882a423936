"""Follow-up forms on the web: personal links, one server-rendered form for every respondent."""

from dashboard.forms.flow import FormFlow, FormUrls, Page, raw_answers
from dashboard.forms.pages import (
    render_form_page,
    render_message_page,
    render_review_page,
)
from dashboard.forms.routes import coach_forms_blueprint, forms_blueprint
from dashboard.forms.session import FormSessionCodec, FormState

__all__ = [
    "FormFlow",
    "FormSessionCodec",
    "FormState",
    "FormUrls",
    "Page",
    "coach_forms_blueprint",
    "forms_blueprint",
    "raw_answers",
    "render_form_page",
    "render_message_page",
    "render_review_page",
]
