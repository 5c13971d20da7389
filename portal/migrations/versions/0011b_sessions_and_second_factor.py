"""accounts: server-side sessions, password history, forced change, TOTP second factor

Revision ID: 0011b
Revises: 0010t
Create Date: 2026-12-01 13:00:00

Sessions signed in before this revision carried the user's session token; they are not in
user_session, so every user logs in again once.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011b'
down_revision = '0010t'
branch_labels = None
depends_on = None


def _user_table(name, *columns):
    op.create_table(name,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    *columns,
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f(f'fk_{name}_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{name}_user_id'), ['user_id'], unique=False)


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_login_addr', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('previous_login_addr', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_secret_sealed', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('last_login_addr', existing_type=sa.String(length=64), server_default=None)
        batch_op.alter_column('previous_login_addr', existing_type=sa.String(length=64), server_default=None)
        batch_op.alter_column('must_change_password', existing_type=sa.Boolean(), server_default=None)

    _user_table('user_session',
                sa.Column('id_hash', sa.String(length=64), nullable=False),
                sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
                sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
                sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
                sa.Column('revoked_reason', sa.String(length=32), nullable=False),
                sa.Column('remote_addr', sa.String(length=64), nullable=False),
                sa.Column('user_agent', sa.String(length=200), nullable=False),
                sa.UniqueConstraint('id_hash', name=op.f('uq_user_session_id_hash')))
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_expires_at'), ['expires_at'], unique=False)
    _user_table('password_history',
                sa.Column('password_hash', sa.String(length=255), nullable=False),
                sa.Column('created_at', sa.DateTime(timezone=True), nullable=False))
    _user_table('totp_recovery_code',
                sa.Column('code_hash', sa.String(length=64), nullable=False),
                sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                sa.Column('used_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    for name in ('totp_recovery_code', 'password_history', 'user_session'):
        op.drop_table(name)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        for column in ('totp_last_step', 'totp_enabled_at', 'totp_secret_sealed', 'enabled_at',
                       'must_change_password', 'previous_login_addr', 'last_login_addr'):
            batch_op.drop_column(column)
