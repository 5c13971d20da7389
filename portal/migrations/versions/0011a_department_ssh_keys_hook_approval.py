"""backups: departments' own SSH keys, hooks approved by the department, the grant of a vendor's restore

Revision ID: 0011a
Revises: 0011e
Create Date: 2026-12-01 13:00:00

第十八条, issue 16: a policy's hooks ran with any key file of the one key folder all departments
shared (`backup_policy.ssh_key_ref`), set by anyone who could edit the policy. That reference
cannot be trusted: it is dropped, not carried over, and no policy has a key after this revision.
The hooks of existing policies are thereby disabled: every existing policy starts with no approved
hook configuration (`hooks_approved_hash` empty), so its backups run without hooks until the
department's administrator creates a key of the department (department_ssh_key), sets it on the
policy and saves or approves it. The hook commands and SSH settings themselves are kept, for the
department's administrator to review.

A vendor's restore now needs a live grant (restore_job.grant_id) or a restore the department
requested of the vendor (states 'requested' and 'withdrawn'; restore_job.started_by_id: the vendor).
"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


revision = '0011a'
down_revision = '0011e'
branch_labels = None
depends_on = None

STATES_BEFORE = "state IN ('running', 'succeeded', 'failed')"
STATES_NOW = "state IN ('requested', 'running', 'succeeded', 'failed', 'withdrawn')"


def upgrade():
    op.create_table('department_ssh_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('private_key_sealed', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=100), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_department_ssh_key_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_department_ssh_key_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user_account.id'], name=op.f('fk_department_ssh_key_revoked_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department_ssh_key')),
    sa.UniqueConstraint('department_id', 'name', name='uq_department_ssh_key_name')
    )
    with op.batch_alter_table('department_ssh_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_department_ssh_key_department_id'), ['department_id'], unique=False)

    with op.batch_alter_table('backup_policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ssh_key_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('hooks_approved_hash', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('hooks_approved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('hooks_approved_at', UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_backup_policy_ssh_key_id'), ['ssh_key_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_backup_policy_ssh_key_id_department_ssh_key'), 'department_ssh_key',
                                    ['ssh_key_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_backup_policy_hooks_approved_by_id_user_account'), 'user_account',
                                    ['hooks_approved_by_id'], ['id'], ondelete='SET NULL')
        # the shared folder's file names are not carried over (see the docstring)
        batch_op.drop_column('ssh_key_ref')
    with op.batch_alter_table('backup_policy', schema=None) as batch_op:
        batch_op.alter_column('hooks_approved_hash', existing_type=sa.String(length=64), server_default=None)

    with op.batch_alter_table('restore_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grant_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('started_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_restore_job_grant_id'), ['grant_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_restore_job_grant_id_vendor_grant'), 'vendor_grant',
                                    ['grant_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_restore_job_started_by_id_user_account'), 'user_account',
                                    ['started_by_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(batch_op.f('ck_restore_job_state'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_restore_job_state'), STATES_NOW)


def downgrade():
    with op.batch_alter_table('restore_job', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_restore_job_state'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_restore_job_state'), STATES_BEFORE)
        batch_op.drop_constraint(batch_op.f('fk_restore_job_started_by_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_restore_job_grant_id_vendor_grant'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_restore_job_grant_id'))
        batch_op.drop_column('started_by_id')
        batch_op.drop_column('grant_id')
    with op.batch_alter_table('backup_policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ssh_key_ref', sa.String(length=120), server_default='', nullable=False))
        batch_op.drop_constraint(batch_op.f('fk_backup_policy_hooks_approved_by_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_backup_policy_ssh_key_id_department_ssh_key'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_backup_policy_ssh_key_id'))
        batch_op.drop_column('hooks_approved_at')
        batch_op.drop_column('hooks_approved_by_id')
        batch_op.drop_column('hooks_approved_hash')
        batch_op.drop_column('ssh_key_id')
    with op.batch_alter_table('department_ssh_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_department_ssh_key_department_id'))
    op.drop_table('department_ssh_key')
