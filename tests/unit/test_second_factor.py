"""TOTP checks against RFC 6238's published test vectors (SHA-1 key "12345678901234567890",
six digits: the last six of the RFC's eight), replay refusal and the drift window."""
import base64
from datetime import datetime, timezone
from types import SimpleNamespace

from portal.services import second_factor

SECRET = base64.b32encode(b"12345678901234567890").decode()
# RFC 6238 appendix B (SHA-1): Unix time -> TOTP (8 digits)
VECTORS = {59: "94287082", 1111111109: "07081804", 1111111111: "14050471", 1234567890: "89005924",
           2000000000: "69279037", 20000000000: "65353130"}


def at(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc)


def test_rfc6238_vectors_are_accepted_at_their_time():
    for seconds, code in VECTORS.items():
        assert second_factor._matching_step(SECRET, code[-6:], None, at(seconds)) == seconds // 30


def test_a_used_step_or_an_older_one_is_refused():
    step = second_factor._matching_step(SECRET, "287082", None, at(59))
    assert second_factor._matching_step(SECRET, "287082", step, at(59)) is None
    assert second_factor._matching_step(SECRET, "287082", step + 1, at(59)) is None


def test_one_step_of_drift_either_side_and_no_more():
    code = VECTORS[1111111109][-6:]
    assert second_factor._matching_step(SECRET, code, None, at(1111111109 + 30)) is not None
    assert second_factor._matching_step(SECRET, code, None, at(1111111109 - 30)) is not None
    assert second_factor._matching_step(SECRET, code, None, at(1111111109 + 90)) is None


def test_malformed_codes_are_refused_without_work():
    for code in ("", "28708", "2870822", "abcdef", " 287082x", None):
        assert second_factor._matching_step(SECRET, code, None, at(59)) is None


def test_required_roles_accept_unknown_names():
    user = SimpleNamespace(role="security")
    assert second_factor.required_for(user, ["security", "whatever"])
    assert not second_factor.required_for(SimpleNamespace(role="department"), ["bureau"])
    assert not second_factor.required_for(user, [])


def test_qr_code_is_a_local_svg_data_uri():
    uri = second_factor.qr_data_uri("otpauth://totp/govcloud:alice?secret=" + SECRET)
    assert uri.startswith("data:image/svg+xml")
