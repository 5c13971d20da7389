"""Translatable text for code that must not import Flask (models, services, errors).

`_l("...")` marks a message for extraction (pybabel's `_l` keyword) and translates it only when
it is turned into a string: through Flask-Babel inside the web app, as the English msgid elsewhere
(scheduler jobs, scripts), without importing Flask here.
"""
import sys

from markupsafe import escape


class LazyText:
    """A message id plus its variables, translated each time it is rendered."""

    __slots__ = ("msgid", "variables")

    def __init__(self, msgid, **variables):
        self.msgid = msgid
        self.variables = variables

    def __str__(self):
        babel = sys.modules.get("flask_babel")  # loaded by the web app, never imported from here
        if babel is not None:
            return babel.gettext(self.msgid, **self.variables)
        return self.msgid % self.variables if self.variables else self.msgid

    def __html__(self):
        return str(escape(str(self)))

    def __eq__(self, other):
        return str(self) == str(other)

    def __hash__(self):
        return hash(self.msgid)

    def __contains__(self, item):
        return item in str(self)

    def __repr__(self):
        return f"LazyText({self.msgid!r})"


def _l(msgid, **variables):
    """Mark msgid for translation; translate when rendered."""
    return LazyText(msgid, **variables)
