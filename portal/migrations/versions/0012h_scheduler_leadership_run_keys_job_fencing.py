"""scheduler leadership and run keys; provisioning jobs fenced and prioritised (#21)

Revision ID: 0012h
Revises: 0012l
Create Date: 2026-12-01 16:00:00

scheduler_lease: the one row of the scheduler's leadership (holder, fencing token, expiry, the last
takeover). job_run gains its run key (job_id, scheduled_for), unique, with the claiming holder and
its token; job_period keeps the periods done once only (monthly statements and report, audit digest
intervals); scheduled_job is the leader's plan for the /jobs page and replaces APScheduler's job
store (apscheduler_jobs, dropped). provisioning_job gains lease_token (the fencing token, raised by
each claim) and priority (1: green channel, 第二十四条).
"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


revision = '0012h'
down_revision = '0012l'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduler_lease',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('token', sa.BigInteger(), nullable=False),
    sa.Column('acquired_at', UTCDateTime(), nullable=True),
    sa.Column('renewed_at', UTCDateTime(), nullable=True),
    sa.Column('expires_at', UTCDateTime(), nullable=True),
    sa.Column('previous_holder', sa.String(length=120), nullable=False),
    sa.Column('takeover_at', UTCDateTime(), nullable=True),
    sa.Column('takeover_gap_seconds', sa.Float(), nullable=True),
    sa.Column('takeovers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_lease'))
    )
    op.create_table('scheduled_job',
    sa.Column('job_id', sa.String(length=64), nullable=False),
    sa.Column('trigger', sa.String(length=255), nullable=False),
    sa.Column('next_run_at', UTCDateTime(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_scheduled_job'))
    )
    op.create_table('job_period',
    sa.Column('job_id', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('done_at', UTCDateTime(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('job_id', 'period', name=op.f('pk_job_period'))
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheduled_for', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('holder', sa.String(length=120), server_default='', nullable=False))
        batch_op.add_column(sa.Column('fence', sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint('uq_job_run_job_id', ['job_id', 'scheduled_for'])
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.alter_column('holder', server_default=None)
    with op.batch_alter_table('provisioning_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_token', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('priority', sa.SmallInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_apscheduler_jobs_next_run_time'))
    op.drop_table('apscheduler_jobs')


def downgrade():
    op.create_table('apscheduler_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apscheduler_jobs'))
    )
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_apscheduler_jobs_next_run_time'), ['next_run_time'], unique=False)
    with op.batch_alter_table('provisioning_job', schema=None) as batch_op:
        batch_op.drop_column('priority')
        batch_op.drop_column('lease_token')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_constraint('uq_job_run_job_id', type_='unique')
        batch_op.drop_column('fence')
        batch_op.drop_column('holder')
        batch_op.drop_column('scheduled_for')
    op.drop_table('job_period')
    op.drop_table('scheduled_job')
    op.drop_table('scheduler_lease')
