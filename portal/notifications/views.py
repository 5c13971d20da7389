"""The inbox (站内消息) of every user and their choice of e-mail and SMS."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import require
from ..extensions import db
from ..models.accounts import Role
from ..services import notifications
from ..auth.views import safe_next
from ..web import page_arg, per_page, request_info
from .forms import PreferencesForm, ReadForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications", template_folder="templates")
EVERYONE = tuple(Role)


@bp.app_context_processor
def _inbox_badge():
    """The unread count for the navigation's badge (notifications/_badge.html)."""
    if not current_user.is_authenticated or request.endpoint == "static":
        return {"inbox_unread": 0}
    return {"inbox_unread": notifications.unread_count(db.session, current_user)}


@bp.route("/")
@require(*EVERYONE)
def index():
    unread = request.args.get("unread") == "1"
    page = notifications.list_inbox(db.session, current_user, unread=unread, page=page_arg(), per_page=per_page())
    return render_template("notifications/index.html", page=page, unread=unread, form=ReadForm())


@bp.route("/<int:message_id>/read", methods=["POST"])
@require(*EVERYONE)
def read(message_id):
    if ReadForm().validate_on_submit():
        message = notifications.mark_read(db.session, current_user, message_id)
        if request.form.get("open") and safe_next(message.link):
            return redirect(message.link)
    return redirect(url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@require(*EVERYONE)
def read_all():
    if ReadForm().validate_on_submit():
        n = notifications.mark_all_read(db.session, current_user)
        flash(_("%(n)d messages marked read.", n=n), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/preferences", methods=["GET", "POST"])
@require(*EVERYONE)
def preferences():
    prefs = notifications.preferences_of(db.session, current_user.id)
    form = PreferencesForm(data={"email": prefs.email, "sms": prefs.sms})
    if form.validate_on_submit():
        notifications.set_preferences(db.session, request_info(), current_user,
                                      email=form.email.data, sms=form.sms.data)
        flash(_("Your notification choices were saved."), "success")
        return redirect(url_for("notifications.preferences"))
    channels = notifications.Channels.of(current_app.config)
    return render_template("notifications/preferences.html", form=form, channels=channels,
                           has_email=bool(current_user.email), has_phone=bool(current_user.phone))
