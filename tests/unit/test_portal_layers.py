"""Dependencies point one way: models, services and the rest below the web layer import no Flask."""
import subprocess
import sys

from tests.unit.conftest import assert_import_no_flask

BELOW_THE_WEB = ["portal.models", "portal.database", "portal.errors", "portal.scoping", "portal.migrate",
                 "portal.pagination", "portal.passwords", "portal.labels", "portal.services.accounts",
                 "portal.services.audit", "portal.services.dashboard", "portal.services.demo",
                 "portal.services.departments", "portal.services.users"]


def test_models_and_services_do_not_import_flask():
    assert_import_no_flask(BELOW_THE_WEB)


def test_lazy_text_without_flask_is_the_english_message():
    code = ("import sys\nfrom portal.errors import AccountLocked, NotFound\n"
            "assert str(NotFound('User', 3).message) == 'User 3 was not found.'\n"
            "assert 'locked' in str(AccountLocked(None).message)\n"
            "assert 'flask' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
