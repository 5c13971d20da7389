"""notifications to every user (inbox, e-mail, webhook per preference), incident kinds, departments'
answers to maintenance windows

Revision ID: 0012n
Revises: 0012w
Create Date: 2026-12-01 16:00:00

notification gains user_id (the person it is for), link and read_at (the inbox) and the channel
'inbox'; its recipient (an e-mail address or a phone) becomes TEXT holding a sealed value: existing
ones are sealed here with the process's key ring. notification_preference keeps each user's choice
of e-mail and SMS (webhook). (incident.kind, outage, degradation, security or backup, came with 0012l; only the
first two count against the SLA) and opened_by_id (opened by hand). maintenance_response: a
department agrees to or objects to a window that affects it (第十三条 协商一致).
"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


revision = '0012n'
down_revision = '0012w'
branch_labels = None
depends_on = None

OLD_CHANNELS = "channel IN ('email', 'webhook')"
NEW_CHANNELS = "channel IN ('inbox', 'email', 'webhook')"


def _ring():
    from portal.crypto import keyring
    from portal.errors import ConfigError
    from portal.settings import load_settings
    ring = keyring.current(required=False)
    if ring is None:
        try:
            ring = keyring.load(load_settings(), create=False)
        except (ConfigError, keyring.KeyRingError) as exc:
            raise RuntimeError(f"revision 0012n needs the key ring to seal notification recipients: {exc}") from None
    return ring


def _rewrite_recipients(transform, wanted):
    from portal.crypto import fields
    bind = op.get_bind()
    if fields.any_row(bind, 'notification', ('recipient',), wanted):
        fields.rewrite_rows(bind, 'notification', ('recipient',), transform, wanted, _ring())


def upgrade():
    from portal.crypto import fields
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('link', sa.String(length=255), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('read_at', UTCDateTime(), nullable=True))
        batch_op.alter_column('recipient', existing_type=sa.String(length=255), type_=sa.Text(),
                              existing_nullable=False)
        batch_op.drop_constraint(batch_op.f('ck_notification_channel'), type_='check')
        batch_op.create_check_constraint('channel', NEW_CHANNELS)
        batch_op.create_foreign_key(batch_op.f('fk_notification_user_id_user_account'), 'user_account',
                                    ['user_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index('ix_notification_user_id_read_at', ['user_id', 'read_at'], unique=False)
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.alter_column('link', existing_type=sa.String(length=255), server_default=None,
                              existing_nullable=False)
    _rewrite_recipients(fields.seal, fields.is_plain)

    op.create_table('notification_preference',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.Boolean(), nullable=False),
    sa.Column('sms', sa.Boolean(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_preference_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_preference'))
    )

    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_incident_opened_by_id_user_account'), 'user_account',
                                    ['opened_by_id'], ['id'], ondelete='SET NULL')

    op.create_table('maintenance_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('window_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint("answer IN ('agree', 'object')", name=op.f('ck_maintenance_response_answer')),
    sa.CheckConstraint("answer = 'agree' OR reason <> ''", name=op.f('ck_maintenance_response_objection_has_reason')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_maintenance_response_department_id_department'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_maintenance_response_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['window_id'], ['maintenance_window.id'], name=op.f('fk_maintenance_response_window_id_maintenance_window'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_response'))
    )
    with op.batch_alter_table('maintenance_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_response_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ux_maintenance_response_window_department', ['window_id', 'department_id'], unique=True)


def downgrade():
    from portal.crypto import fields
    with op.batch_alter_table('maintenance_response', schema=None) as batch_op:
        batch_op.drop_index('ux_maintenance_response_window_department')
        batch_op.drop_index(batch_op.f('ix_maintenance_response_department_id'))
    op.drop_table('maintenance_response')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_incident_opened_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('opened_by_id')
    op.drop_table('notification_preference')
    op.execute("DELETE FROM notification WHERE channel = 'inbox'")
    _rewrite_recipients(fields.unseal, fields.is_sealed)
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_id_read_at')
        batch_op.drop_constraint(batch_op.f('fk_notification_user_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('ck_notification_channel'), type_='check')
        batch_op.create_check_constraint('channel', OLD_CHANNELS)
        batch_op.alter_column('recipient', existing_type=sa.Text(), type_=sa.String(length=255),
                              existing_nullable=False)
        batch_op.drop_column('read_at')
        batch_op.drop_column('link')
        batch_op.drop_column('user_id')
