"""the platform's duties (issue 20): emergency plans and versions, drills (steps, follow-ups),
rectification notices and answers, key changes

Revision ID: 0013e
Revises: 0012z
Create Date: 2026-12-01 19:40:00
"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime

revision = '0013e'
down_revision = '0012z'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('emergency_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('system_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('drill_interval_months', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('overdue_flagged_for', sa.Date(), nullable=True),
    sa.CheckConstraint("(scope = 'platform') = (department_id IS NULL)", name=op.f('ck_emergency_plan_department_iff_system')),
    sa.CheckConstraint("scope IN ('platform', 'system')", name=op.f('ck_emergency_plan_scope')),
    sa.CheckConstraint('drill_interval_months BETWEEN 1 AND 36', name=op.f('ck_emergency_plan_drill_interval')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_emergency_plan_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_emergency_plan_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['system_id'], ['resource_request.id'], name=op.f('fk_emergency_plan_system_id_resource_request'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_plan'))
    )
    with op.batch_alter_table('emergency_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergency_plan_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_plan_system_id'), ['system_id'], unique=False)

    op.create_table('key_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('impact', sa.Text(), nullable=False),
    sa.Column('rollback_plan', sa.Text(), nullable=False),
    sa.Column('security_confirmed', sa.Boolean(), nullable=False),
    sa.Column('starts_at', UTCDateTime(), nullable=False),
    sa.Column('ends_at', UTCDateTime(), nullable=False),
    sa.Column('applied_at', UTCDateTime(), nullable=False),
    sa.Column('applied_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('completed_at', UTCDateTime(), nullable=True),
    sa.Column('result_note', sa.Text(), nullable=False),
    sa.Column('maintenance_window_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('upgrade', 'network', 'security', 'other')", name=op.f('ck_key_change_kind')),
    sa.CheckConstraint("state IN ('submitted', 'approved', 'rejected', 'cancelled', 'completed')", name=op.f('ck_key_change_state')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_key_change_ends_after_start')),
    sa.CheckConstraint('security_confirmed', name=op.f('ck_key_change_security_confirmed')),
    sa.ForeignKeyConstraint(['applied_by_id'], ['user_account.id'], name=op.f('fk_key_change_applied_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_key_change_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['maintenance_window_id'], ['maintenance_window.id'], name=op.f('fk_key_change_maintenance_window_id_maintenance_window'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_change'))
    )
    with op.batch_alter_table('key_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_change_state'), ['state'], unique=False)

    op.create_table('rectification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('system_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('finding', sa.Text(), nullable=False),
    sa.Column('requirement', sa.Text(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('rounds', sa.Integer(), nullable=False),
    sa.Column('issued_at', UTCDateTime(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', UTCDateTime(), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('closed_at', UTCDateTime(), nullable=True),
    sa.Column('changed_at', UTCDateTime(), nullable=True),
    sa.Column('overdue_flagged_at', UTCDateTime(), nullable=True),
    sa.CheckConstraint("(target = 'vendor') = (department_id IS NULL)", name=op.f('ck_rectification_department_iff_target')),
    sa.CheckConstraint("state IN ('issued', 'answered', 'returned', 'accepted', 'withdrawn')", name=op.f('ck_rectification_state')),
    sa.CheckConstraint("target IN ('vendor', 'department')", name=op.f('ck_rectification_target')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_rectification_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_rectification_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['user_account.id'], name=op.f('fk_rectification_issued_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['system_id'], ['resource_request.id'], name=op.f('fk_rectification_system_id_resource_request'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification')),
    sa.UniqueConstraint('number', name=op.f('uq_rectification_number'))
    )
    with op.batch_alter_table('rectification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_rectification_state_due_date', ['state', 'due_date'], unique=False)

    op.create_table('emergency_plan_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('scenario', sa.Text(), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('rto_minutes', sa.Integer(), nullable=False),
    sa.Column('rpo_minutes', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', UTCDateTime(), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('approved_at', UTCDateTime(), nullable=True),
    sa.Column('document_name', sa.String(length=200), nullable=False),
    sa.Column('document_stored', sa.String(length=64), nullable=False),
    sa.Column('document_type', sa.String(length=100), nullable=False),
    sa.Column('document_size', sa.Integer(), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.CheckConstraint("state IN ('draft', 'submitted', 'approved', 'returned', 'superseded')", name=op.f('ck_emergency_plan_version_state')),
    sa.CheckConstraint('rpo_minutes BETWEEN 0 AND 100000', name=op.f('ck_emergency_plan_version_rpo')),
    sa.CheckConstraint('rto_minutes BETWEEN 1 AND 100000', name=op.f('ck_emergency_plan_version_rto')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_emergency_plan_version_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_emergency_plan_version_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_emergency_plan_version_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['plan_id'], ['emergency_plan.id'], name=op.f('fk_emergency_plan_version_plan_id_emergency_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_plan_version')),
    sa.UniqueConstraint('plan_id', 'number', name='uq_emergency_plan_version_number')
    )
    with op.batch_alter_table('emergency_plan_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergency_plan_version_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_plan_version_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_plan_version_state'), ['state'], unique=False)

    op.create_table('rectification_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rectification_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('answered_at', UTCDateTime(), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('document_name', sa.String(length=200), nullable=False),
    sa.Column('document_stored', sa.String(length=64), nullable=False),
    sa.Column('document_type', sa.String(length=100), nullable=False),
    sa.Column('document_size', sa.Integer(), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.CheckConstraint("decision IS NULL OR decision IN ('accepted', 'returned')", name=op.f('ck_rectification_answer_decision')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user_account.id'], name=op.f('fk_rectification_answer_answered_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_rectification_answer_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['rectification_id'], ['rectification.id'], name=op.f('fk_rectification_answer_rectification_id_rectification'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_answer')),
    sa.UniqueConstraint('rectification_id', 'round', name='uq_rectification_answer_round')
    )
    with op.batch_alter_table('rectification_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_answer_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rectification_answer_rectification_id'), ['rectification_id'], unique=False)

    op.create_table('drill',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('scenario', sa.Text(), nullable=False),
    sa.Column('scheduled_for', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('participants', sa.JSON(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=True),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.Column('result', sa.String(length=16), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('problems', sa.Text(), nullable=False),
    sa.Column('restore_job_id', sa.Integer(), nullable=True),
    sa.Column('restore_seconds', sa.Float(), nullable=True),
    sa.Column('backup_age_minutes', sa.Float(), nullable=True),
    sa.Column('rto_minutes', sa.Integer(), nullable=True),
    sa.Column('rpo_minutes', sa.Integer(), nullable=True),
    sa.Column('rto_met', sa.Boolean(), nullable=True),
    sa.Column('rpo_met', sa.Boolean(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', UTCDateTime(), nullable=True),
    sa.Column('reminded_at', UTCDateTime(), nullable=True),
    sa.Column('overdue_flagged_at', UTCDateTime(), nullable=True),
    sa.CheckConstraint("result IS NULL OR result IN ('passed', 'partial', 'failed')", name=op.f('ck_drill_result')),
    sa.CheckConstraint("state IN ('scheduled', 'running', 'completed', 'closed', 'cancelled')", name=op.f('ck_drill_state')),
    sa.CheckConstraint('ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at', name=op.f('ck_drill_ends_after_start')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_drill_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_drill_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['plan_id'], ['emergency_plan.id'], name=op.f('fk_drill_plan_id_emergency_plan'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['plan_version_id'], ['emergency_plan_version.id'], name=op.f('fk_drill_plan_version_id_emergency_plan_version'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['restore_job_id'], ['restore_job.id'], name=op.f('fk_drill_restore_job_id_restore_job'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drill'))
    )
    with op.batch_alter_table('drill', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drill_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_drill_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_drill_scheduled_for'), ['scheduled_for'], unique=False)
        batch_op.create_index('ix_drill_state_scheduled_for', ['state', 'scheduled_for'], unique=False)

    op.create_table('drill_follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('drill_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('closed_at', UTCDateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closing_note', sa.Text(), nullable=False),
    sa.Column('overdue_flagged_at', UTCDateTime(), nullable=True),
    sa.CheckConstraint("state = 'open' OR closing_note <> ''", name=op.f('ck_drill_follow_up_closed_with_note')),
    sa.CheckConstraint("state IN ('open', 'closed')", name=op.f('ck_drill_follow_up_state')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user_account.id'], name=op.f('fk_drill_follow_up_closed_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_drill_follow_up_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['drill_id'], ['drill.id'], name=op.f('fk_drill_follow_up_drill_id_drill'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drill_follow_up'))
    )
    with op.batch_alter_table('drill_follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drill_follow_up_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_drill_follow_up_drill_id'), ['drill_id'], unique=False)

    op.create_table('drill_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('drill_id', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('manual', 'restore')", name=op.f('ck_drill_step_kind')),
    sa.CheckConstraint("outcome IN ('ok', 'problem', 'note')", name=op.f('ck_drill_step_outcome')),
    sa.ForeignKeyConstraint(['drill_id'], ['drill.id'], name=op.f('fk_drill_step_drill_id_drill'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_drill_step_recorded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drill_step'))
    )
    with op.batch_alter_table('drill_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drill_step_drill_id'), ['drill_id'], unique=False)



def downgrade():
    with op.batch_alter_table('drill_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drill_step_drill_id'))

    op.drop_table('drill_step')
    with op.batch_alter_table('drill_follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drill_follow_up_drill_id'))
        batch_op.drop_index(batch_op.f('ix_drill_follow_up_department_id'))

    op.drop_table('drill_follow_up')
    with op.batch_alter_table('drill', schema=None) as batch_op:
        batch_op.drop_index('ix_drill_state_scheduled_for')
        batch_op.drop_index(batch_op.f('ix_drill_scheduled_for'))
        batch_op.drop_index(batch_op.f('ix_drill_plan_id'))
        batch_op.drop_index(batch_op.f('ix_drill_department_id'))

    op.drop_table('drill')
    with op.batch_alter_table('rectification_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectification_answer_rectification_id'))
        batch_op.drop_index(batch_op.f('ix_rectification_answer_department_id'))

    op.drop_table('rectification_answer')
    with op.batch_alter_table('emergency_plan_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_plan_version_state'))
        batch_op.drop_index(batch_op.f('ix_emergency_plan_version_plan_id'))
        batch_op.drop_index(batch_op.f('ix_emergency_plan_version_department_id'))

    op.drop_table('emergency_plan_version')
    with op.batch_alter_table('rectification', schema=None) as batch_op:
        batch_op.drop_index('ix_rectification_state_due_date')
        batch_op.drop_index(batch_op.f('ix_rectification_department_id'))

    op.drop_table('rectification')
    with op.batch_alter_table('key_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_change_state'))

    op.drop_table('key_change')
    with op.batch_alter_table('emergency_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_plan_system_id'))
        batch_op.drop_index(batch_op.f('ix_emergency_plan_department_id'))

    op.drop_table('emergency_plan')
