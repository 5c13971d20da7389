"""api tokens: expiry, scope, address of the last use

Revision ID: 0010t
Revises: 0010i
Create Date: 2026-12-01 10:30:00

Tokens created before this revision never expired and could write: they keep write access and
expire a year after they were created (a token older than a year is expired at once).
"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


revision = '0010t'
down_revision = '0010i'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('scope', sa.String(length=8), server_default='write', nullable=False))
        batch_op.add_column(sa.Column('last_used_addr', sa.String(length=64), server_default='', nullable=False))
    set_expiry_of_existing_tokens()
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=UTCDateTime(), nullable=False)
        batch_op.alter_column('scope', existing_type=sa.String(length=8), server_default=None)
        batch_op.alter_column('last_used_addr', existing_type=sa.String(length=64), server_default=None)
        batch_op.create_check_constraint(batch_op.f('ck_api_token_scope'), "scope IN ('read', 'write')")


def set_expiry_of_existing_tokens():
    """expires_at = created_at + 365 days, computed in Python: the same on SQLite and PostgreSQL."""
    token = sa.table('api_token', sa.column('id', sa.Integer), sa.column('created_at', UTCDateTime),
                     sa.column('expires_at', UTCDateTime))
    bind = op.get_bind()
    for row in bind.execute(sa.select(token.c.id, token.c.created_at)).all():
        bind.execute(token.update().where(token.c.id == row.id)
                     .values(expires_at=row.created_at + timedelta(days=365)))


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_api_token_scope'), type_='check')
        batch_op.drop_column('last_used_addr')
        batch_op.drop_column('scope')
        batch_op.drop_column('expires_at')
