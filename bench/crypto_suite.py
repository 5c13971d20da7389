"""The two cryptographic suites side by side: sealing a field, the audit chain's event hash and a
digest's signature, international (AES-256-GCM, SHA-256, HMAC-SHA256) against 商用密码 (SM4-GCM,
SM3, SM2 with its user id).

    python bench/crypto_suite.py [--rounds N]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from portal import audit_chain  # noqa: E402
from portal.crypto import fields, keyring, signing  # noqa: E402

HMAC_KEY = b"bench-hmac-key"
PHONE = "13800138000"
EVENT = {"id": 1, "seq": 1, "occurred_at": "2026-12-01T00:00:00.000000", "actor_id": 1,
         "actor_username": "bench", "actor_role": "bureau", "department_id": 1, "action": "request.approve",
         "object_type": "request", "object_id": "1", "before": {"state": "submitted"},
         "after": {"state": "approved"}, "outcome": "success", "request_id": "b", "remote_addr": "10.0.0.1",
         "detail": "审批通过", "prev_hash": "0" * 64}


def per_call(fn, rounds):
    start = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - start) / rounds


def measure(suite, rounds):
    ring = keyring.KeyRing(active_id="", keys={})
    key = keyring.new_key(suite)
    ring.active_id, ring.keys = key.id, {key.id: key}
    keyring.configure(ring, suite)
    sealed = fields.seal(PHONE)
    assert fields.unseal(sealed) == PHONE
    algorithm = signing.chain_hash_algorithm()
    message = b"1000|" + b"a" * 64 + b"|2026-12-01T00:00:00.000000"
    alg, key_id, signature = signing.sign_digest(HMAC_KEY, message)
    assert signing.verify_digest(HMAC_KEY, alg, key_id, message, signature)
    seal = per_call(lambda: fields.seal(PHONE), rounds) * 1e6
    unseal = per_call(lambda: fields.unseal(sealed), rounds) * 1e6
    chain = per_call(lambda: audit_chain.chain_hash_of(algorithm, EVENT), rounds) * 1e6
    few = max(rounds // 50, 20)
    sign = per_call(lambda: signing.sign_digest(HMAC_KEY, message), few) * 1e3
    verify = per_call(lambda: signing.verify_digest(HMAC_KEY, alg, key_id, message, signature), few) * 1e3
    print(f"{suite:13}  seal {seal:6.1f} µs  unseal {unseal:6.1f} µs  event hash ({algorithm}) {chain:6.1f} µs  "
          f"digest sign ({alg}) {sign:7.3f} ms  verify {verify:7.3f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5000)
    rounds = parser.parse_args().rounds
    for suite in ("international", "sm"):
        measure(suite, rounds)


if __name__ == "__main__":
    main()
