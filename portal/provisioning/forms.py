"""Forms of the vendor's operator actions on failed provisioning (issue 5)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from ..forms_common import length, optional


class ResolveForm(FlaskForm):
    """Mark a failed request resolved: how it was handled outside the portal (required by the service)."""

    comment = TextAreaField(_l("How was it handled?"), validators=[optional(), length(4000)])
