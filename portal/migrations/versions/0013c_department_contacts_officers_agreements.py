"""department contacts kept current, important systems and confidentiality agreements (issue 20)

Revision ID: 0013c
Revises: 0013v
Create Date: 2026-12-01 20:00:00

第二十六条: the department's officer and emergency contact get an e-mail, a backup emergency contact
is added, and the department's last "still correct" confirmation is kept; staff and each system's
owner and contacts are rows of contact_person. 第十七条: systems marked important and their
confidentiality agreements (with the signed document). duty_notice: each reminder sent once.
The new phone and e-mail columns are TEXT holding sealed values (SealedText); they start empty.
"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


revision = '0013c'
down_revision = '0013v'
branch_labels = None
depends_on = None

SEALED_COLUMNS = ('security_officer_email', 'emergency_contact_email', 'backup_contact_phone', 'backup_contact_email')


def _foreign_keys(on):
    """SQLite copies the department table to drop the columns' defaults while rows of other tables
    refer to it: its foreign keys are off meanwhile (as in 0011e)."""
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


def upgrade():
    _foreign_keys(False)
    with op.batch_alter_table('department', schema=None) as batch_op:
        for name in SEALED_COLUMNS[:2]:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('backup_contact_name', sa.String(length=64), nullable=False, server_default=''))
        for name in SEALED_COLUMNS[2:]:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('contacts_confirmed_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('contacts_confirmed_by', sa.String(length=64), nullable=False, server_default=''))
    with op.batch_alter_table('department', schema=None) as batch_op:  # existing rows have '': no default kept
        for name in SEALED_COLUMNS + ('backup_contact_name', 'contacts_confirmed_by'):
            batch_op.alter_column(name, server_default=None)
    _foreign_keys(True)

    op.create_table('contact_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('staff', 'system_owner', 'system_contact')", name=op.f('ck_contact_person_kind')),
    sa.CheckConstraint("(kind = 'staff') = (system_id IS NULL)", name=op.f('ck_contact_person_system_iff_not_staff')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_contact_person_department_id_department'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['system_id'], ['resource_request.id'],
                            name=op.f('fk_contact_person_system_id_resource_request'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_person'))
    )
    with op.batch_alter_table('contact_person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_person_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_person_system_id'), ['system_id'], unique=False)

    op.create_table('important_system',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('marked_by', sa.String(length=64), nullable=False),
    sa.Column('marked_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                            name=op.f('fk_important_system_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['system_id'], ['resource_request.id'],
                            name=op.f('fk_important_system_system_id_resource_request'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_important_system')),
    sa.UniqueConstraint('system_id', name=op.f('uq_important_system_system_id'))
    )
    with op.batch_alter_table('important_system', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_important_system_department_id'), ['department_id'], unique=False)

    op.create_table('confidentiality_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('parties', sa.String(length=500), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=True),
    sa.Column('content_type', sa.String(length=80), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint('expires_on > signed_on', name=op.f('ck_confidentiality_agreement_expires_after_signed')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                            name=op.f('fk_confidentiality_agreement_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['system_id'], ['resource_request.id'],
                            name=op.f('fk_confidentiality_agreement_system_id_resource_request'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_confidentiality_agreement')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_confidentiality_agreement_stored_name'))
    )
    with op.batch_alter_table('confidentiality_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_confidentiality_agreement_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_confidentiality_agreement_system_id'), ['system_id'], unique=False)

    op.create_table('duty_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', UTCDateTime(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('confirm_remind', 'confirm_overdue', 'agreement_remind', 'agreement_expired')",
                       name=op.f('ck_duty_notice_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_notice')),
    sa.UniqueConstraint('kind', 'object_id', 'due_on', 'threshold', name='uq_duty_notice_once')
    )
    with op.batch_alter_table('duty_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duty_notice_department_id'), ['department_id'], unique=False)


def downgrade():
    with op.batch_alter_table('duty_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duty_notice_department_id'))
    op.drop_table('duty_notice')
    with op.batch_alter_table('confidentiality_agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_confidentiality_agreement_system_id'))
        batch_op.drop_index(batch_op.f('ix_confidentiality_agreement_department_id'))
    op.drop_table('confidentiality_agreement')
    with op.batch_alter_table('important_system', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_important_system_department_id'))
    op.drop_table('important_system')
    with op.batch_alter_table('contact_person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_person_system_id'))
        batch_op.drop_index(batch_op.f('ix_contact_person_department_id'))
    op.drop_table('contact_person')
    _foreign_keys(False)
    with op.batch_alter_table('department', schema=None) as batch_op:
        for name in ('contacts_confirmed_by', 'contacts_confirmed_at', 'backup_contact_name') + SEALED_COLUMNS:
            batch_op.drop_column(name)
    _foreign_keys(True)
