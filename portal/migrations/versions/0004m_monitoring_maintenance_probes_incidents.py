"""monitoring: job runs and job store, maintenance windows, probes, incidents, notifications, inventory

Revision ID: 0004m
Revises: 0003r
Create Date: 2026-11-26 20:51:36.310327
"""
from alembic import op
import sqlalchemy as sa


revision = '0004m'
down_revision = '0003r'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('apscheduler_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apscheduler_jobs'))
    )
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_apscheduler_jobs_next_run_time'), ['next_run_time'], unique=False)

    op.create_table('inventory_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('api_calls', sa.Integer(), nullable=False),
    sa.Column('duration_seconds', sa.Float(), nullable=False),
    sa.Column('departments', sa.JSON(), nullable=False),
    sa.Column('services', sa.JSON(), nullable=False),
    sa.Column('capacity', sa.JSON(), nullable=False),
    sa.Column('server_statuses', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_snapshot'))
    )
    with op.batch_alter_table('inventory_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inventory_snapshot_taken_at'), ['taken_at'], unique=False)

    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.String(length=255), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.CheckConstraint("outcome IN ('running', 'success', 'failed', 'errored')", name=op.f('ck_job_run_outcome')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run'))
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index('ix_job_run_job_id_started_at', ['job_id', 'started_at'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('last_error', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('email', 'webhook')", name=op.f('ck_notification_channel')),
    sa.CheckConstraint("state IN ('pending', 'sent', 'failed')", name=op.f('ck_notification_state')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_notification_department_id_department'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_state'), ['state'], unique=False)

    op.create_table('probe_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('system_name', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('server_ref', sa.String(length=64), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('failure_threshold', sa.SmallInteger(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('consecutive_failures', sa.SmallInteger(), nullable=False),
    sa.Column('first_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_ok', sa.Boolean(), nullable=True),
    sa.Column('last_latency_ms', sa.Integer(), nullable=True),
    sa.Column('last_detail', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('openstack_api', 'server_status', 'tcp', 'ssh')", name=op.f('ck_probe_target_kind')),
    sa.CheckConstraint("state IN ('unknown', 'up', 'down')", name=op.f('ck_probe_target_state')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_probe_target_department_id_department'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_probe_target'))
    )
    with op.batch_alter_table('probe_target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_probe_target_department_id'), ['department_id'], unique=False)

    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('system_name', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('root_cause', sa.Text(), nullable=False),
    sa.CheckConstraint("state IN ('open', 'acknowledged', 'resolved')", name=op.f('ck_incident_state')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_incident_department_id_department'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['probe_target.id'], name=op.f('fk_incident_target_id_probe_target'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_target_id'), ['target_id'], unique=False)

    op.create_table('maintenance_window',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('impact', sa.Text(), nullable=False),
    sa.Column('systems', sa.JSON(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('planned', 'emergency')", name=op.f('ck_maintenance_window_kind')),
    sa.CheckConstraint("state IN ('submitted', 'approved', 'rejected', 'cancelled')", name=op.f('ck_maintenance_window_state')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_maintenance_window_ends_after_start')),
    sa.ForeignKeyConstraint(['applied_by_id'], ['user_account.id'], name=op.f('fk_maintenance_window_applied_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_maintenance_window_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_window'))
    )
    with op.batch_alter_table('maintenance_window', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_window_ends_at'), ['ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_window_starts_at'), ['starts_at'], unique=False)

    op.create_table('probe_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=True),
    sa.Column('in_maintenance', sa.Boolean(), nullable=False),
    sa.Column('detail', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['target_id'], ['probe_target.id'], name=op.f('fk_probe_result_target_id_probe_target'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_probe_result'))
    )
    with op.batch_alter_table('probe_result', schema=None) as batch_op:
        batch_op.create_index('ix_probe_result_target_id_checked_at', ['target_id', 'checked_at'], unique=False)

    op.create_table('incident_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('actor_username', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_event_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_event'))
    )
    with op.batch_alter_table('incident_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_event_incident_id'), ['incident_id'], unique=False)

    op.create_table('maintenance_window_department',
    sa.Column('window_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_maintenance_window_department_department_id_department'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['window_id'], ['maintenance_window.id'], name=op.f('fk_maintenance_window_department_window_id_maintenance_window'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('window_id', 'department_id', name=op.f('pk_maintenance_window_department'))
    )


def downgrade():
    op.drop_table('maintenance_window_department')
    with op.batch_alter_table('incident_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_event_incident_id'))

    op.drop_table('incident_event')
    with op.batch_alter_table('probe_result', schema=None) as batch_op:
        batch_op.drop_index('ix_probe_result_target_id_checked_at')

    op.drop_table('probe_result')
    with op.batch_alter_table('maintenance_window', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maintenance_window_starts_at'))
        batch_op.drop_index(batch_op.f('ix_maintenance_window_ends_at'))

    op.drop_table('maintenance_window')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_target_id'))
        batch_op.drop_index(batch_op.f('ix_incident_state'))
        batch_op.drop_index(batch_op.f('ix_incident_department_id'))

    op.drop_table('incident')
    with op.batch_alter_table('probe_target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_probe_target_department_id'))

    op.drop_table('probe_target')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_state'))
        batch_op.drop_index(batch_op.f('ix_notification_department_id'))

    op.drop_table('notification')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index('ix_job_run_job_id_started_at')

    op.drop_table('job_run')
    with op.batch_alter_table('inventory_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inventory_snapshot_taken_at'))

    op.drop_table('inventory_snapshot')
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_apscheduler_jobs_next_run_time'))

    op.drop_table('apscheduler_jobs')
