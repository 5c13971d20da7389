"""The audit chain's primitives under the configured suite: the event hash (SHA-256 or SM3) and
the signature of a digest (HMAC-SHA256 with the audit key, or SM2 with the key ring's active
key). Each event and digest records its algorithm, so a chain begun under one suite verifies
under the other: mixing shows in the records, it is never guessed."""
import hashlib
import hmac

from . import keyring, suites

LEGACY_HASH = "sha256"            # events written before hash_alg existed
LEGACY_SIGNATURE = "hmac-sha256"  # digests written before algorithm existed


def chain_hash_algorithm():
    """The hash algorithm of events sealed from now on (CRYPTO_SUITE)."""
    return keyring.configured_suite().hash_name


def chain_hash(algorithm, data):
    """Hex hash of data with algorithm (None: the legacy SHA-256)."""
    suite = suites.BY_HASH.get(algorithm or LEGACY_HASH)
    if suite is None:
        raise ValueError(f"unknown audit hash algorithm {algorithm!r}")
    return suite.hash(data).hex()


def sign_digest(hmac_key, message):
    """Return (algorithm, key id, hex signature) of message under CRYPTO_SUITE."""
    suite = keyring.configured_suite()
    if suite.name == suites.INTERNATIONAL:
        return LEGACY_SIGNATURE, None, hmac.new(hmac_key, message, hashlib.sha256).hexdigest()
    key = keyring.current().active
    return suite.signature_name, key.id, suite.sign(key.secret, message).hex()


def verify_digest(hmac_key, algorithm, key_id, message, signature):
    """True or False; None when it cannot be checked here (no audit HMAC key given)."""
    if algorithm in (None, LEGACY_SIGNATURE):
        if hmac_key is None:
            return None
        expected = hmac.new(hmac_key, message, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature, expected)
    suite = suites.BY_SIGNATURE.get(algorithm)
    ring = keyring.current(required=False)
    public = ring.public(key_id, algorithm) if ring is not None and key_id else None
    if suite is None or public is None:
        return False  # a key this ring does not know cannot vouch for the digest
    try:
        return suite.verify(public, message, bytes.fromhex(signature))
    except ValueError:
        return False
