"""Flask extensions, created unbound here and bound in create_app."""
from flask import current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from .database import make_session_factory


class Database:
    """Per-app engine and scoped session, reachable as db.session inside a request."""

    key = "govcloud_db"

    def init_app(self, app, engine):
        sessions = make_session_factory(engine)
        app.extensions[self.key] = (engine, sessions)

        @app.teardown_appcontext
        def _remove_session(_exc):
            sessions.remove()

    @property
    def engine(self):
        return current_app.extensions[self.key][0]

    @property
    def session(self):
        return current_app.extensions[self.key][1]()


db = Database()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
