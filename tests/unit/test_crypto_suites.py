"""商用密码 against the standards' published test vectors (GB/T 32905 SM3, GB/T 32907 SM4,
GB/T 32918 SM2, RFC 8998 SM4-GCM), the two suites, sealed values, the key ring, masking."""
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from portal.crypto import fields, keyring, masking, signing, sm2, suites

SM = suites.get("sm")
INTL = suites.get("international")


# --- SM3 (GB/T 32905-2016, appendix A) ------------------------------------------------------

def test_sm3_abc():
    assert SM.hash(b"abc").hex() == ("66c7f0f462eeedd9d1f2d46bdc10e4e2"
                                     "4167c4875cf2f7a2297da02b8f4ba8e0")


def test_sm3_512_bit_message():
    assert SM.hash(b"abcd" * 16).hex() == ("debe9ff92275b8a138604889c18e5a4d"
                                           "6fdb70e5387e5765293dcba39c0c5732")


def test_hmac_sm3_differs_by_key_and_checks():
    mac = SM.hmac(b"k1", b"message")
    assert len(mac) == 32 and SM.hmac_ok(b"k1", b"message", mac)
    assert not SM.hmac_ok(b"k2", b"message", mac) and not SM.hmac_ok(b"k1", b"massage", mac)


# --- SM4 (GB/T 32907-2016, appendix A) and SM4-GCM (RFC 8998, appendix A.1) -----------------

def test_sm4_block_vector():
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (enc.update(key) + enc.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_one_million_times():
    """The standard's second example: the block encrypted 1 000 000 times with the same key."""
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    block = key
    for _ in range(1_000_000):
        block = enc.update(block)
    assert block.hex() == "595298c7c6fd271f0402f804c33d3f66"


def test_sm4_gcm_rfc8998_vector():
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    iv = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
                              "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA")
    expected = ("17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
                "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
                "83DE3541E4C2B58177E065A9BF7B62EC")  # ciphertext, then the tag
    sealed = SM.sm4_gcm_encrypt(key, iv, plaintext, aad)
    assert sealed.hex().upper() == expected
    assert SM.sm4_gcm_decrypt(key, iv, sealed, aad) == plaintext
    with pytest.raises(suites.DecryptionError):
        SM.sm4_gcm_decrypt(key, iv, sealed, aad + b"x")


# --- SM2 (GB/T 32918.2-2016 appendix A on its Fp-256 test curve; GB/T 32918.5 curve) ---------

TEST_CURVE = sm2.Curve(
    p=0x8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3,
    a=0x787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498,
    b=0x63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A,
    gx=0x421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D,
    gy=0x0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2,
    n=0x8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7)
ALICE_ID = b"ALICE123@YAHOO.COM"
ALICE_D = 0x128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263
ALICE_PUBLIC = bytes.fromhex("0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A"
                             "7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857")
ALICE_K = 0x6CB28D99385C175C94F94E934817663FC176D925DD72B727260DBAAE1FB2F96F
ALICE_SIGNATURE = bytes.fromhex("40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1"
                                "6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7")


def test_sm2_standard_example_verifies_with_its_public_key():
    assert sm2.on_curve(ALICE_PUBLIC, TEST_CURVE)
    assert sm2.z_a(ALICE_PUBLIC, ALICE_ID, TEST_CURVE).hex().upper() == \
        "F4A38489E32B45B6F876E3AC2168CA392362DC8F23459C1D1146FC3DBFB7BC9A"
    assert sm2.verify(ALICE_PUBLIC, b"message digest", ALICE_SIGNATURE, ALICE_ID, TEST_CURVE)
    # another message, another id, a flipped bit: refused
    assert not sm2.verify(ALICE_PUBLIC, b"message digesT", ALICE_SIGNATURE, ALICE_ID, TEST_CURVE)
    assert not sm2.verify(ALICE_PUBLIC, b"message digest", ALICE_SIGNATURE, b"BOB", TEST_CURVE)
    flipped = bytes([ALICE_SIGNATURE[0] ^ 1]) + ALICE_SIGNATURE[1:]
    assert not sm2.verify(ALICE_PUBLIC, b"message digest", flipped, ALICE_ID, TEST_CURVE)


def test_sm2_standard_example_signs_to_the_published_signature():
    assert sm2.public_key(ALICE_D, TEST_CURVE) == ALICE_PUBLIC
    assert sm2.sign(ALICE_D, b"message digest", ALICE_ID, TEST_CURVE, k=ALICE_K) == ALICE_SIGNATURE


def test_sm2_recommended_curve_example_with_the_default_id():
    """GB/T 32918.5 / GM/T 0003.5 example on sm2p256v1, user id 1234567812345678."""
    d = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
    public = sm2.public_key(d)
    assert public.hex().upper() == ("09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
                                    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13")
    signature = bytes.fromhex("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
                              "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")
    assert sm2.verify(public, b"message digest", signature)
    k = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
    assert sm2.sign(d, b"message digest", k=k) == signature


def test_sm2_round_trip_with_random_nonces():
    d = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
    public = sm2.public_key(d)
    one, two = sm2.sign(d, b"digest 1"), sm2.sign(d, b"digest 1")
    assert one != two  # a fresh k each time
    assert sm2.verify(public, b"digest 1", one) and sm2.verify(public, b"digest 1", two)
    assert not sm2.verify(public, b"digest 2", one)


def test_sm2_refuses_out_of_range_signatures_and_off_curve_keys():
    d = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
    public = sm2.public_key(d)
    n = sm2.SM2P256V1.n
    for r, s in ((0, 1), (1, 0), (n, 1), (1, n)):
        assert not sm2.verify(public, b"m", r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    off_curve = public[:63] + bytes([public[63] ^ 1])
    assert not sm2.on_curve(off_curve)
    assert not sm2.verify(off_curve, b"m", sm2.sign(d, b"m"))
    assert not sm2.verify(public, b"m", b"short")


# --- the suites ---------------------------------------------------------------------------

@pytest.mark.parametrize("suite", [INTL, SM], ids=["international", "sm"])
def test_suite_encrypts_and_signs(suite):
    secret = os.urandom(32)
    nonce = os.urandom(12)
    sealed = suite.encrypt(secret, nonce, "13812345678".encode(), b"header")
    assert b"13812345678" not in sealed
    assert suite.decrypt(secret, nonce, sealed, b"header") == b"13812345678"
    with pytest.raises(suites.DecryptionError):
        suite.decrypt(os.urandom(32), nonce, sealed, b"header")
    with pytest.raises(suites.DecryptionError):
        suite.decrypt(secret, nonce, sealed, b"other header")
    signature = suite.sign(secret, b"digest")
    assert suite.verify(suite.public_key(secret), b"digest", signature)
    assert not suite.verify(suite.public_key(os.urandom(32)), b"digest", signature)


def test_unknown_suite_is_refused():
    with pytest.raises(ValueError, match="unknown crypto suite"):
        suites.get("des")


# --- key ring and sealed values ----------------------------------------------------------

@pytest.fixture
def restore_ring():
    saved = (keyring.current(required=False), keyring.configured_suite().name)
    yield
    keyring.configure(*saved)


def test_key_file_is_created_owner_only_and_reread(tmp_path, restore_ring):
    path = tmp_path / "keys.json"
    ring = keyring.load({"CRYPTO_KEY_FILE": str(path), "CRYPTO_SUITE": "sm"}, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ring.active.suite == "sm" and ring.active_id.startswith("sm-")
    again = keyring.load({"CRYPTO_KEY_FILE": str(path)})
    assert again.active_id == ring.active_id and again.active.secret == ring.active.secret
    assert keyring.load({"CRYPTO_KEY_FILE": str(tmp_path / "absent.json")}) is None


def test_key_ring_from_the_environment_and_malformed_rings(restore_ring):
    key = keyring.new_key("international")
    ring = keyring.KeyRing(key.id, {key.id: key})
    loaded = keyring.load({"CRYPTO_KEYS": ring.to_json(), "CRYPTO_KEY_FILE": "/nonexistent"})
    assert loaded.active.secret == key.secret and loaded.source == "CRYPTO_KEYS"
    for text in ("not json", json.dumps({"active": "a", "keys": []}),
                 json.dumps({"active": "a", "keys": [{"id": "a", "suite": "rot13", "secret": "AA=="}]})):
        with pytest.raises(keyring.KeyRingError):
            keyring.parse(text, "test")


@pytest.mark.parametrize("suite", ["international", "sm"])
def test_seal_and_unseal(suite, restore_ring):
    key = keyring.new_key(suite)
    ring = keyring.KeyRing(key.id, {key.id: key})
    sealed = fields.seal("it@example.gov.cn", ring)
    assert sealed.startswith(f"v1:{suite}:{key.id}:") and "example" not in sealed
    assert fields.seal("it@example.gov.cn", ring) != sealed  # a fresh nonce per value
    assert fields.unseal(sealed, ring) == "it@example.gov.cn"
    assert fields.key_id_of(sealed) == key.id
    # the header is authenticated: another suite or key id named in it does not open
    version, _suite, key_id, nonce, ciphertext = sealed.split(":")
    other = "sm" if suite == "international" else "international"
    with pytest.raises(suites.DecryptionError):
        fields.unseal(":".join([version, other, key_id, nonce, ciphertext]), ring)
    with pytest.raises(suites.DecryptionError):
        fields.unseal(":".join([version, suite, key_id, nonce, ciphertext[:-4] + "AAAA"]), ring)
    stranger = keyring.new_key(suite)
    with pytest.raises(keyring.KeyRingError):
        fields.unseal(sealed, keyring.KeyRing(stranger.id, {stranger.id: stranger}))
    assert fields.unseal("plain legacy value", ring) == "plain legacy value"


def test_sealed_smtp_password_and_password_file(tmp_path, restore_ring):
    key = keyring.new_key("sm")
    ring = keyring.KeyRing(key.id, {key.id: key})
    keyring.configure(ring, "sm")
    sealed = fields.seal("smtp-secret")
    assert fields.read_secret({"SMTP_PASSWORD": sealed}, "SMTP_PASSWORD") == "smtp-secret"
    assert fields.read_secret({"SMTP_PASSWORD": "plain"}, "SMTP_PASSWORD") == "plain"
    path = tmp_path / "smtp.pw"
    path.write_text(sealed + "\n")
    assert fields.read_secret({"SMTP_PASSWORD_FILE": str(path)}, "SMTP_PASSWORD") == "smtp-secret"
    assert fields.read_secret({}, "SMTP_PASSWORD") is None


def test_retired_key_keeps_its_public_keys_for_old_signatures(restore_ring):
    old = keyring.new_key("sm")
    ring = keyring.KeyRing(old.id, {old.id: old}).with_new_key("sm")
    keyring.configure(ring, "sm")
    with pytest.raises(keyring.KeyRingError):
        ring.without(ring.active_id)
    retired = keyring.parse(ring.without(old.id).to_json(), "test")
    assert old.id not in retired.keys and retired.public(old.id, "sm2-sm3") == old.publics["sm2-sm3"]
    message = b"1|abc|2026-12-01T00:00:00.000000+00:00"
    signature = SM.sign(old.secret, message).hex()
    keyring.configure(retired, "sm")
    assert signing.verify_digest(None, "sm2-sm3", old.id, message, signature) is True
    assert signing.verify_digest(None, "sm2-sm3", old.id, message + b"x", signature) is False
    assert signing.verify_digest(None, "sm2-sm3", "unknown-key", message, signature) is False
    assert signing.verify_digest(None, "hmac-sha256", None, message, "00") is None


def test_chain_hash_follows_the_recorded_algorithm():
    assert signing.chain_hash(None, b"abc") == signing.chain_hash("sha256", b"abc")
    assert signing.chain_hash("sm3", b"abc").startswith("66c7f0f4")
    with pytest.raises(ValueError):
        signing.chain_hash("md5", b"abc")


def test_masks():
    assert masking.mask_phone("13812345678") == "138****5678"
    assert masking.mask_phone("0571-8888") == "05****88"
    assert masking.mask_phone("139") == "****"
    assert masking.mask_email("alice@example.cn") == "a***@example.cn"
    assert masking.mask("it_lead_email", "it@x.gov.cn") == "i***@x.gov.cn"
    assert masking.mask("phone", "") == ""


def test_mask_record_masks_nested_personal_fields_only():
    record = {"phone": "13812345678", "name": "王", "contacts": [{"it_lead_email": "bob@x.cn"}],
              "count": 3, "phone_count": 2}
    assert masking.mask_record(record) == {"phone": "138****5678", "name": "王",
                                           "contacts": [{"it_lead_email": "b***@x.cn"}],
                                           "count": 3, "phone_count": 2}
    assert masking.mask_record(masking.mask_record(record)) == masking.mask_record(record)
    assert masking.mask_record(None) is None


def test_smtp_login_uses_the_unsealed_password(monkeypatch, restore_ring):
    from scheduler import notify
    key = keyring.new_key("sm")
    keyring.configure(keyring.KeyRing(key.id, {key.id: key}), "sm")
    logins = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def login(self, user, password):
            logins.append((user, password))

        def send_message(self, message):
            pass

    monkeypatch.setattr(notify.smtplib, "SMTP", FakeSMTP)
    settings = {"SMTP_HOST": "smtp.example", "SMTP_USERNAME": "govcloud",
                "SMTP_PASSWORD": fields.seal("s3cret-密码")}
    notify.send_email(settings, "a@example.cn", "subject", "body")
    assert logins == [("govcloud", "s3cret-密码")]


def test_key_file_readable_by_others_is_named(tmp_path, caplog, restore_ring):
    path = tmp_path / "keys.json"
    keyring.load({"CRYPTO_KEY_FILE": str(path)}, create=True)
    path.chmod(0o644)
    keyring.load({"CRYPTO_KEY_FILE": str(path)})
    assert "readable by others" in caplog.text


def test_seal_existing_turns_a_plain_text_column_sealed(restore_ring):
    """What the merge migration of a column made SealedText (e.g. an SSH key) runs."""
    import sqlalchemy as sa
    key = keyring.new_key("sm")
    keyring.configure(keyring.KeyRing(key.id, {key.id: key}), "sm")
    metadata = sa.MetaData()
    plain = sa.Table("secret_thing", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("private_key_sealed", sa.Text))
    sealed = sa.Table("secret_thing", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("private_key_sealed", fields.SealedText()))
    engine = sa.create_engine("sqlite://")
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(plain.insert(), [{"id": 1, "private_key_sealed": "-----BEGIN KEY-----"},
                                          {"id": 2, "private_key_sealed": ""}])
            # before: the SealedText column reads the plain value as it is
            assert conn.execute(sa.select(sealed.c.private_key_sealed).where(sealed.c.id == 1)).scalar() \
                == "-----BEGIN KEY-----"
            assert fields.seal_existing(conn, "secret_thing", ["private_key_sealed"]) == 1
            assert fields.seal_existing(conn, "secret_thing", ["private_key_sealed"]) == 0
            raw = conn.execute(sa.select(plain.c.private_key_sealed).where(plain.c.id == 1)).scalar()
            assert raw.startswith(f"v1:sm:{key.id}:") and "BEGIN" not in raw
            assert conn.execute(sa.select(sealed.c.private_key_sealed).order_by(sealed.c.id)).scalars().all() \
                == ["-----BEGIN KEY-----", ""]
    finally:
        engine.dispose()


def test_a_running_process_picks_up_a_rotated_key_file(tmp_path, monkeypatch, restore_ring):
    """`govcloud crypto rotate` in another process: this one opens and seals with the new key."""
    path = tmp_path / "keys.json"
    settings = {"CRYPTO_KEY_FILE": str(path), "CRYPTO_SUITE": "sm"}
    old = keyring.configure_from_settings(settings)
    sealed_old = fields.seal("13812345678")
    rotated = keyring.load(settings).with_new_key("sm")
    keyring.write_file(rotated, str(path))  # what the other process does
    os.utime(path, ns=(1, 1))  # a changed mtime even on a coarse clock
    monkeypatch.setattr(keyring, "RELOAD_SECONDS", 0)
    assert keyring.current().active_id == rotated.active_id != old.active_id
    assert fields.key_id_of(fields.seal("x")) == rotated.active_id
    assert fields.unseal(sealed_old) == "13812345678"


def test_ensure_switches_to_an_apps_ring_only_when_another_is_configured(tmp_path, restore_ring):
    one = {"CRYPTO_KEY_FILE": str(tmp_path / "one.json"), "CRYPTO_SUITE": "international"}
    two = {"CRYPTO_KEY_FILE": str(tmp_path / "two.json"), "CRYPTO_SUITE": "sm"}
    ring_one = keyring.configure_from_settings(one)
    ring_two = keyring.configure_from_settings(two)
    keyring.ensure(two)
    assert keyring.current() is ring_two and keyring.configured_suite().name == "sm"
    keyring.ensure(one)
    assert keyring.current().active_id == ring_one.active_id and keyring.configured_suite().name == "international"
