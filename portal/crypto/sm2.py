"""SM2 digital signatures (GB/T 32918.2) with the signer's distinguishing id.

The curve arithmetic is gmssl's (PyPI `gmssl`); this module computes Z_A with the given user
id (gmssl hard-codes the default one), draws the nonce k from `secrets` (gmssl uses `random`),
checks r and s are in [1, n-1] and that a public key lies on the curve, and hashes with the
`cryptography` package's SM3.
"""
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from gmssl.sm2 import CryptSM2

DEFAULT_USER_ID = b"1234567812345678"  # GM/T 0009-2012, section 10


@dataclass(frozen=True)
class Curve:
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int

    def table(self):
        """The curve as gmssl's hex table."""
        return {"p": f"{self.p:064x}", "a": f"{self.a:064x}", "b": f"{self.b:064x}",
                "n": f"{self.n:064x}", "g": f"{self.gx:064x}{self.gy:064x}"}


# the recommended curve (GB/T 32918.5)
SM2P256V1 = Curve(
    p=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF,
    a=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC,
    b=0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93,
    gx=0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    gy=0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
    n=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123)


def sm3(data):
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def _engine(curve, private=None, public=None):
    engine = CryptSM2(private_key=f"{private:064x}" if private else "", public_key="",
                      ecc_table=curve.table())
    engine.public_key = public.hex() if public else ""  # gmssl's constructor mangles "04..." keys
    return engine


def public_key(private, curve=SM2P256V1):
    """Return the public key [d]G of private as x||y (64 bytes)."""
    if not 1 <= private <= curve.n - 2:
        raise ValueError("SM2 private key out of range")
    return bytes.fromhex(_engine(curve)._kg(private, curve.table()["g"]))


def on_curve(public, curve=SM2P256V1):
    if len(public) != 64:
        return False
    x, y = int.from_bytes(public[:32], "big"), int.from_bytes(public[32:], "big")
    return x < curve.p and y < curve.p and (y * y - x ** 3 - curve.a * x - curve.b) % curve.p == 0


def z_a(public, user_id=DEFAULT_USER_ID, curve=SM2P256V1):
    """Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A)."""
    if len(user_id) * 8 > 0xFFFF:
        raise ValueError("SM2 user id too long")
    data = (len(user_id) * 8).to_bytes(2, "big") + user_id + b"".join(
        v.to_bytes(32, "big") for v in (curve.a, curve.b, curve.gx, curve.gy)) + public
    return sm3(data)


def _e(message, public, user_id, curve):
    return sm3(z_a(public, user_id, curve) + message)


def sign(private, message, user_id=DEFAULT_USER_ID, curve=SM2P256V1, *, k=None):
    """Return the signature r||s (64 bytes) of message; k only for the standard's test vectors."""
    public = public_key(private, curve)
    e = _e(message, public, user_id, curve)
    engine = _engine(curve, private=private)
    while True:
        nonce = k if k is not None else secrets.randbelow(curve.n - 1) + 1
        sig = engine.sign(e, f"{nonce:064x}")
        if sig is not None:
            return bytes.fromhex(sig)
        if k is not None:
            raise ValueError("the given k gives no signature")


def verify(public, message, signature, user_id=DEFAULT_USER_ID, curve=SM2P256V1):
    """True when signature (r||s, 64 bytes) is public's signature of message."""
    if len(signature) != 64 or not on_curve(public, curve):
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (1 <= r < curve.n and 1 <= s < curve.n):
        return False
    e = _e(message, public, user_id, curve)
    try:
        return bool(_engine(curve, public=public).verify(signature.hex(), e))
    except (TypeError, ValueError):  # a point at infinity on the way: not a valid signature
        return False
