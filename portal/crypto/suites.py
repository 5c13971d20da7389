"""The two algorithm suites: international (SHA-256, HMAC-SHA256, Ed25519, AES-256-GCM) and
sm, 商用密码 (SM3, HMAC-SM3, SM2 with its user id, SM4-GCM). SM3 and SM4 come from the
`cryptography` package; SM2 from portal.crypto.sm2 (over gmssl)."""
import hmac as std_hmac

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from . import sm2

INTERNATIONAL, SM = "international", "sm"
NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptionError(Exception):
    """A sealed value does not open: wrong key, or altered."""


class Suite:
    name = ""
    hash_name = ""       # of the audit chain's event hashes
    signature_name = ""  # of signed audit digests and archives

    def _hash_algorithm(self):
        raise NotImplementedError

    def hash(self, data):
        h = hashes.Hash(self._hash_algorithm())
        h.update(data)
        return h.finalize()

    def hmac(self, key, data):
        h = crypto_hmac.HMAC(key, self._hash_algorithm())
        h.update(data)
        return h.finalize()

    def hmac_ok(self, key, data, mac):
        return std_hmac.compare_digest(self.hmac(key, data), mac)

    def derive(self, secret, label, length=32):
        """A sub-key of secret for one purpose (HKDF with the suite's hash)."""
        return HKDF(algorithm=self._hash_algorithm(), length=length, salt=None,
                    info=b"govcloud " + label.encode()).derive(secret)


class International(Suite):
    name = INTERNATIONAL
    hash_name = "sha256"
    signature_name = "ed25519"

    def _hash_algorithm(self):
        return hashes.SHA256()

    def encrypt(self, secret, nonce, plaintext, aad):
        return AESGCM(self.derive(secret, "field encryption")).encrypt(nonce, plaintext, aad)

    def decrypt(self, secret, nonce, ciphertext, aad):
        try:
            return AESGCM(self.derive(secret, "field encryption")).decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise DecryptionError("the sealed value does not open with its key") from None

    def _signing_key(self, secret):
        return Ed25519PrivateKey.from_private_bytes(self.derive(secret, "signing"))

    def public_key(self, secret):
        return self._signing_key(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, secret, message):
        return self._signing_key(secret).sign(message)

    def verify(self, public, message, signature):
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
            return True
        except (InvalidSignature, ValueError):
            return False


class Commercial(Suite):
    """商用密码: SM3, HMAC-SM3, SM2 (user id GOVCLOUD_SM2_ID), SM4-GCM (RFC 8998)."""

    name = SM
    hash_name = "sm3"
    signature_name = "sm2-sm3"
    user_id = sm2.DEFAULT_USER_ID

    def _hash_algorithm(self):
        return hashes.SM3()

    @staticmethod
    def sm4_gcm_encrypt(key, nonce, plaintext, aad):
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        return enc.update(plaintext) + enc.finalize() + enc.tag

    @staticmethod
    def sm4_gcm_decrypt(key, nonce, data, aad):
        if len(data) < TAG_BYTES:
            raise DecryptionError("the sealed value is too short")
        dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, data[-TAG_BYTES:])).decryptor()
        dec.authenticate_additional_data(aad)
        try:
            return dec.update(data[:-TAG_BYTES]) + dec.finalize()
        except InvalidTag:
            raise DecryptionError("the sealed value does not open with its key") from None

    def encrypt(self, secret, nonce, plaintext, aad):
        return self.sm4_gcm_encrypt(self.derive(secret, "field encryption", 16), nonce, plaintext, aad)

    def decrypt(self, secret, nonce, ciphertext, aad):
        return self.sm4_gcm_decrypt(self.derive(secret, "field encryption", 16), nonce, ciphertext, aad)

    def _private(self, secret):
        # 40 bytes reduced mod n-2: a uniform enough scalar in [1, n-2]
        raw = int.from_bytes(self.derive(secret, "signing", 40), "big")
        return raw % (sm2.SM2P256V1.n - 2) + 1

    def public_key(self, secret):
        return sm2.public_key(self._private(secret))

    def sign(self, secret, message):
        return sm2.sign(self._private(secret), message, self.user_id)

    def verify(self, public, message, signature):
        return sm2.verify(public, message, signature, self.user_id)


SUITES = {INTERNATIONAL: International(), SM: Commercial()}
BY_HASH = {s.hash_name: s for s in SUITES.values()}
BY_SIGNATURE = {s.signature_name: s for s in SUITES.values()}


def get(name):
    try:
        return SUITES[name]
    except KeyError:
        raise ValueError(f"unknown crypto suite {name!r}; use {' or '.join(SUITES)}") from None
