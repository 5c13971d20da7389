"""What every input schema shares: strict types, bounded text, the limits from settings, and
problems in the user's language.

Every schema is strict (1.5 is not a count, "2" is not a number, "yes" is not true) and forbids
unknown fields. Strings are bounded and carry no control characters. The numbers the settings
bound (servers per request, GB per volume, ...) come in the validation context as `Limits`, so a
schema never does work that grows with a number it was given.
"""
import re
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from ..text import _l

# C0 controls except tab, newline and carriage return; DEL; C1 controls
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
LINE_BREAKS = re.compile(r"[\t\n\r]")


def _plain(value, *, lines):
    if CONTROL.search(value) or (not lines and LINE_BREAKS.search(value)):
        raise PydanticCustomError("control_character", "control characters are not allowed")
    return value


def line(max_length, min_length=0):
    """One line of text (a name, a reference): no line breaks, at most max_length characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length),
                     AfterValidator(lambda v: _plain(v, lines=False))]


def text(max_length, min_length=0):
    """Free text (a purpose, a comment): line breaks allowed, at most max_length characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length),
                     AfterValidator(lambda v: _plain(v, lines=True))]


class Input(BaseModel):
    """Base of every input: strict types, no unknown fields, no coercion."""

    model_config = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=True, frozen=True)


class Output(BaseModel):
    """Base of every response body (documented, never validated against input)."""

    model_config = ConfigDict(from_attributes=True)


class Page(Input):
    """`page` ≥ 1 and 1 ≤ `per_page` ≤ 100; anything else is refused, not clamped."""

    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(20, ge=1, le=100)


MESSAGES = {
    "missing": _l("This field is required."),
    "extra_forbidden": _l("This field is not known."),
    "int_type": _l("Enter a whole number."),
    "int_parsing": _l("Enter a whole number."),
    "int_from_float": _l("Enter a whole number."),
    "bool_type": _l("Enter true or false."),
    "bool_parsing": _l("Enter true or false."),
    "string_type": _l("Enter text."),
    "list_type": _l("Enter a list."),
    "dict_type": _l("Enter an object."),
    "model_type": _l("Enter an object."),
    "model_attributes_type": _l("Enter an object."),
    "literal_error": _l("Choose one of: %(expected)s."),
    "enum": _l("Choose one of: %(expected)s."),
    "greater_than_equal": _l("Enter a number of at least %(ge)s."),
    "greater_than": _l("Enter a number greater than %(gt)s."),
    "less_than_equal": _l("Enter a number of at most %(le)s."),
    "less_than": _l("Enter a number less than %(lt)s."),
    "string_too_long": _l("Enter at most %(max_length)s characters."),
    "string_too_short": _l("Enter at least %(min_length)s characters."),
    "too_long": _l("Enter at most %(max_length)s items."),
    "too_short": _l("Enter at least %(min_length)s items."),
    "string_pattern_mismatch": _l("The format is not valid."),
    "control_character": _l("Control characters are not allowed."),
    "date_type": _l("Enter a date such as 2026-12-31."),
    "date_from_datetime_parsing": _l("Enter a date such as 2026-12-31."),
    "datetime_type": _l("Enter a time such as 2026-12-31T08:00:00+08:00."),
    "datetime_from_date_parsing": _l("Enter a time such as 2026-12-31T08:00:00+08:00."),
}


def location(loc):
    """('spec', 'servers', 0, 'count') -> 'spec.servers[0].count'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def form_field(loc):
    """('servers', 0, 'count') -> 'servers-1', the key of the web form's row; ('system_name',) -> itself."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        return f"{loc[0]}-{loc[1] + 1}"
    return str(loc[0]) if loc else ""


def problems(exc: ValidationError, name=location):
    """Return [(field, message)] of a ValidationError, each message translatable (LazyText)."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        ctx = {k: (", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
               for k, v in (err.get("ctx") or {}).items()}
        message = err.get("ctx", {}).get("message") if err["type"] == "govcloud" else None
        if message is None:
            template = MESSAGES.get(err["type"], _l("The value is not valid."))
            message = _l(template.msgid, **{k: ctx.get(k, "") for k in _names(template.msgid)})
        out.append((name(err["loc"]), message))
    return out


def _names(msgid):
    return re.findall(r"%\((\w+)\)s", msgid)


def refuse(message):
    """Raise from a validator: message (LazyText) is shown to the user as it is."""
    raise PydanticCustomError("govcloud", "{message}", {"message": message})


T = TypeVar("T")


class Listing(Output, Generic[T]):
    """One page of a list: `Listing[ItemOut]`."""

    items: list[T]
    page: int
    pages: int
    total: int
