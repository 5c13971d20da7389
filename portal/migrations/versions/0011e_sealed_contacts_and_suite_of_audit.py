"""sealed contacts and user e-mail/phone; the audit chain records its hash and signature algorithms

Revision ID: 0011e
Revises: 0011c
Create Date: 2026-12-01 13:00:00

Department contact phones and e-mail, and users' e-mail and phone, become TEXT holding sealed
values ("v1:<suite>:<key id>:..."): existing values are sealed here with the process's key ring
(CRYPTO_KEY_FILE or CRYPTO_KEYS; `govcloud db upgrade` creates the file on first use). Without a
ring and with values to seal, the upgrade stops and says so.

audit_event.hash_alg (NULL: sha256, every event before this revision) and audit_digest.algorithm
(NULL: hmac-sha256) and key_id say how each event was hashed and each digest signed, so a chain
begun under one suite still verifies under the other. On SQLite, widening audit_digest.signature
copies that table: run this before any revision that puts triggers on audit_digest.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011e'
down_revision = '0011c'
branch_labels = None
depends_on = None

SEALED = {'department': ('security_officer_phone', 'it_lead_phone', 'it_lead_email', 'emergency_contact_phone'),
          'user_account': ('email', 'phone')}
LENGTHS = {'it_lead_email': 120, 'email': 120}
# Text already (0011b made them for sealing): sealed in place, no retyping
SEALED_TEXT = {'user_account': ('totp_secret_sealed',)}


def _ring():
    """The process's key ring (configured by `govcloud db upgrade`), else the settings' one."""
    from portal.crypto import keyring
    from portal.errors import ConfigError
    from portal.settings import load_settings
    ring = keyring.current(required=False)
    if ring is None:
        try:
            ring = keyring.load(load_settings(), create=False)
        except (ConfigError, keyring.KeyRingError) as exc:
            raise RuntimeError(f"revision 0011e needs the key ring to seal contact phones and e-mails: {exc}") from None
    return ring


def _ring_for(wanted):
    """The key ring when a value needs it (None when none does); asked before any change, so a
    missing ring stops the upgrade before it alters a table."""
    from portal.crypto import fields
    bind = op.get_bind()
    if not any(fields.any_row(bind, name, columns, wanted) for name, columns in SEALED.items()):
        return None
    ring = _ring()
    if ring is None:
        raise RuntimeError(
            "revision 0011e seals contact phones and e-mails but finds no key ring: set "
            "CRYPTO_KEY_FILE (or CRYPTO_KEYS), or run `govcloud db upgrade`, which creates "
            "the key file in the instance folder")
    return ring


def _rewrite(transform, wanted, ring):
    from portal.crypto import fields
    for name, columns in SEALED.items():
        fields.rewrite_rows(op.get_bind(), name, columns, transform, wanted, ring)


def _rewrite_text(transform, wanted, ring):
    from portal.crypto import fields
    bind = op.get_bind()
    for name, columns in SEALED_TEXT.items():
        if fields.any_row(bind, name, columns, wanted):
            fields.rewrite_rows(bind, name, columns, transform, wanted, ring or _ring())


def _foreign_keys(on):
    """SQLite copies a table to change a column's type while rows of other tables refer to it:
    its foreign keys are off meanwhile (effective outside a transaction: before any DML here)."""
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


def _retype(from_type, to_type):
    _foreign_keys(False)
    for table_name, columns in SEALED.items():
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=from_type(column), type_=to_type(column),
                                      existing_nullable=False)
    _foreign_keys(True)


def _string(column):
    return sa.String(length=LENGTHS.get(column, 32))


def upgrade():
    from portal.crypto import fields
    ring = _ring_for(fields.is_plain)
    _retype(_string, lambda column: sa.Text())
    _rewrite(fields.seal, fields.is_plain, ring)
    _rewrite_text(fields.seal, fields.is_plain, ring)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hash_alg', sa.String(length=16), nullable=True))
    with op.batch_alter_table('audit_digest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('algorithm', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('key_id', sa.String(length=40), nullable=True))
        batch_op.alter_column('signature', existing_type=sa.String(length=64), type_=sa.String(length=256),
                              existing_nullable=False)


def downgrade():
    from portal.crypto import fields
    ring = _ring_for(fields.is_sealed)
    with op.batch_alter_table('audit_digest', schema=None) as batch_op:
        batch_op.alter_column('signature', existing_type=sa.String(length=256), type_=sa.String(length=64),
                              existing_nullable=False)
        batch_op.drop_column('key_id')
        batch_op.drop_column('algorithm')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('hash_alg')
    _rewrite(fields.unseal, fields.is_sealed, ring)
    _rewrite_text(fields.unseal, fields.is_sealed, ring)
    _retype(lambda column: sa.Text(), _string)
