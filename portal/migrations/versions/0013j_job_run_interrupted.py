"""scheduler: a run whose scheduler stopped while it ran is marked interrupted at the takeover

Revision ID: 0013j
Revises: 0012z
Create Date: 2026-12-01 20:00:00

The outcome CHECK constraint of job_run gains 'interrupted'. A downgrade turns interrupted runs into
errored ones (a run that did not finish as planned), never into successes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013j'
down_revision = '0012z'
branch_labels = None
depends_on = None

OLD = "'running', 'success', 'failed', 'errored'"
NEW = OLD + ", 'interrupted'"


def _set_outcomes(outcomes):
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_job_run_outcome'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_job_run_outcome'), f"outcome IN ({outcomes})")


def upgrade():
    _set_outcomes(NEW)


def downgrade():
    run = sa.table('job_run', sa.column('outcome', sa.String))
    op.execute(run.update().where(run.c.outcome == 'interrupted').values(outcome='errored'))
    _set_outcomes(OLD)
