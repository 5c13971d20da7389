"""audit log cannot be rewritten: triggers refusing UPDATE/DELETE, archives of purged events

Revision ID: 0011d
Revises: 0011a
Create Date: 2026-12-01 13:00:00

Triggers (portal/audit_guard.py) refuse UPDATE and DELETE of the audit tables on PostgreSQL and
SQLite; only the retention purge may delete events, and only archived ones older than 180 days.
"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


revision = '0011d'
down_revision = '0011a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_archive',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('first_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('first_prev_hash', sa.String(length=64), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=255), nullable=False),
    sa.Column('algorithm', sa.String(length=16), nullable=True),
    sa.Column('key_id', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_archive'))
    )
    with op.batch_alter_table('audit_archive', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_archive_first_seq'), ['first_seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_archive_last_seq'), ['last_seq'], unique=False)
    from portal import audit_guard
    audit_guard.install_triggers(op.get_bind())


def downgrade():
    from portal import audit_guard
    audit_guard.drop_triggers(op.get_bind())
    with op.batch_alter_table('audit_archive', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_archive_last_seq'))
        batch_op.drop_index(batch_op.f('ix_audit_archive_first_seq'))
    op.drop_table('audit_archive')
