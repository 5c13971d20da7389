from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import Regexp

from ..forms_common import length, optional
from ..workdays import MAX_TEXT

VERSION = Regexp(r"^\d{0,9}$")


class YearForm(FlaskForm):
    """The arrangement of one year as published: one line per holiday period or adjusted workday."""

    reference = StringField(_l("Notice (document number)"), validators=[optional(), length(200)],
                            description=_l("e.g. 国务院办公厅关于2027年部分节假日安排的通知"))
    text = TextAreaField(_l("Holidays and adjusted workdays"), validators=[length(MAX_TEXT)], render_kw={"rows": 16})
    document = FileField(_l("Or import the arrangement from a text file (UTF-8, same format)"))
    version = HiddenField(validators=[VERSION])
    save = SubmitField(_l("Save the arrangement"))

    def base_version(self):
        return int(self.version.data) if self.version.data else None

    def imported_text(self):
        """The uploaded file's text (None: no file); raises ValueError for a file that is no text."""
        file = self.document.data
        if file is None or not getattr(file, "filename", ""):
            return None
        raw = file.stream.read(MAX_TEXT * 4 + 1)  # UTF-8: at most 4 bytes a character
        if len(raw) > MAX_TEXT * 4:
            raise ValueError("too long")
        text = raw.decode("utf-8-sig").replace("\r\n", "\n")
        if len(text) > MAX_TEXT:
            raise ValueError("too long")
        return text


class RevertForm(FlaskForm):
    version = HiddenField(validators=[VERSION])
    revert = SubmitField(_l("Remove the entered arrangement"))
