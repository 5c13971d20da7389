"""provisioning operations: rollback, resolve, reconciler findings, step timings

Revision ID: 0007p
Revises: 0006g
Create Date: 2026-11-26 23:45:00
"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


revision = '0007p'
down_revision = '0006g'
branch_labels = None
depends_on = None

OLD_STATES = ("'draft', 'submitted', 'under_review', 'returned', 'approved', 'rejected', 'provisioning', "
              "'provisioned', 'failed', 'delivered', 'cancelled'")
NEW_STATES = OLD_STATES + ", 'rolling_back', 'rolled_back', 'resolved'"


def upgrade():
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolution', sa.Text(), server_default='', nullable=False))
        batch_op.drop_constraint(batch_op.f('ck_resource_request_state'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_resource_request_state'), f"state IN ({NEW_STATES})")
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.alter_column('resolution', server_default=None)

    with op.batch_alter_table('provisioning_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('action', sa.String(length=16), server_default='provision', nullable=False))
        batch_op.add_column(sa.Column('step_started_at', UTCDateTime(), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_provisioning_job_action'), "action IN ('provision', 'rollback')")

    op.create_table('reconcile_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('duration_seconds', sa.Float(), nullable=False),
    sa.Column('findings', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconcile_run'))
    )
    with op.batch_alter_table('reconcile_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconcile_run_started_at'), ['started_at'], unique=False)

    op.create_table('reconcile_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('resource_kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('openstack_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('problem', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('suggestion', sa.String(length=32), nullable=False),
    sa.CheckConstraint("kind IN ('orphan', 'drift', 'quota')", name=op.f('ck_reconcile_finding_kind')),
    sa.CheckConstraint("suggestion IN ('delete_orphan', 'rollback', 'reprovision', 'repair', 'fix_quota')",
                       name=op.f('ck_reconcile_finding_suggestion')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                            name=op.f('fk_reconcile_finding_department_id_department'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['resource_request.id'],
                            name=op.f('fk_reconcile_finding_request_id_resource_request'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['reconcile_run.id'], name=op.f('fk_reconcile_finding_run_id_reconcile_run'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconcile_finding'))
    )
    with op.batch_alter_table('reconcile_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconcile_finding_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconcile_finding_run_id'), ['run_id'], unique=False)

    op.create_table('provisioning_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['provisioning_job.id'],
                            name=op.f('fk_provisioning_step_job_id_provisioning_job'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provisioning_step'))
    )
    with op.batch_alter_table('provisioning_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provisioning_step_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_provisioning_step_kind'), ['kind'], unique=False)


def downgrade():
    with op.batch_alter_table('provisioning_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provisioning_step_kind'))
        batch_op.drop_index(batch_op.f('ix_provisioning_step_job_id'))
    op.drop_table('provisioning_step')
    with op.batch_alter_table('reconcile_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconcile_finding_run_id'))
        batch_op.drop_index(batch_op.f('ix_reconcile_finding_department_id'))
    op.drop_table('reconcile_finding')
    with op.batch_alter_table('reconcile_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconcile_run_started_at'))
    op.drop_table('reconcile_run')
    with op.batch_alter_table('provisioning_job', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_provisioning_job_action'), type_='check')
        batch_op.drop_column('step_started_at')
        batch_op.drop_column('action')
    op.execute("UPDATE resource_request SET state = 'failed' "
               "WHERE state IN ('rolling_back', 'rolled_back', 'resolved')")
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_resource_request_state'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_resource_request_state'), f"state IN ({OLD_STATES})")
        batch_op.drop_column('resolution')
