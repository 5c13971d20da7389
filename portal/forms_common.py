"""Validators and fields shared by the blueprints' forms, with translated messages."""
from flask_babel import lazy_gettext as _l
from wtforms.validators import DataRequired, Length, Optional, Regexp

PHONE = Regexp(r"^[0-9+\-() ]{0,32}$", message=_l("Enter a telephone number (digits, +, -)."))
EMAIL = Regexp(r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter a valid e-mail address."))


def required():
    return DataRequired(message=_l("This field is required."))


def length(max_len, min_len=0):
    return Length(min=min_len, max=max_len,
                  message=_l("Enter between %(min)d and %(max)d characters.", min=min_len, max=max_len))


def optional():
    return Optional()
