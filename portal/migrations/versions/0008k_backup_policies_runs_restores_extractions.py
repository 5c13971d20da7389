"""backup policies, runs, artifacts, restores, extractions

Revision ID: 0008k
Revises: 0007p
Create Date: 2026-11-26 23:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008k'
down_revision = '0007p'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('backup_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('kinds', sa.String(length=16), nullable=False),
    sa.Column('cron', sa.String(length=120), nullable=False),
    sa.Column('keep_count', sa.Integer(), nullable=True),
    sa.Column('keep_days', sa.Integer(), nullable=True),
    sa.Column('hook_pre', sa.Text(), nullable=False),
    sa.Column('hook_post', sa.Text(), nullable=False),
    sa.Column('ssh_username', sa.String(length=64), nullable=False),
    sa.Column('ssh_host', sa.String(length=255), nullable=False),
    sa.Column('ssh_port', sa.Integer(), nullable=False),
    sa.Column('ssh_host_key', sa.Text(), nullable=False),
    sa.Column('ssh_key_ref', sa.String(length=120), nullable=False),
    sa.Column('timeout_seconds', sa.Integer(), nullable=False),
    sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kinds IN ('snapshot', 'volume', 'both')", name=op.f('ck_backup_policy_kinds')),
    sa.CheckConstraint('keep_count IS NULL OR keep_count >= 1', name=op.f('ck_backup_policy_keep_count')),
    sa.CheckConstraint('keep_days IS NULL OR keep_days >= 1', name=op.f('ck_backup_policy_keep_days')),
    sa.CheckConstraint('timeout_seconds > 0', name=op.f('ck_backup_policy_timeout')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_backup_policy_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_backup_policy_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['system_id'], ['resource_request.id'], name=op.f('fk_backup_policy_system_id_resource_request'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_policy')),
    sa.UniqueConstraint('department_id', 'name', name='uq_backup_policy_department_id')
    )
    with op.batch_alter_table('backup_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backup_policy_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_backup_policy_due', ['enabled', 'next_run_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_policy_system_id'), ['system_id'], unique=False)

    op.create_table('backup_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=True),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('kinds', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('size_gb', sa.Integer(), nullable=False),
    sa.Column('hook_log', sa.Text(), nullable=False),
    sa.Column('error_message', sa.Text(), nullable=False),
    sa.Column('error_detail', sa.Text(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kinds IN ('snapshot', 'volume', 'both')", name=op.f('ck_backup_run_kinds')),
    sa.CheckConstraint("state IN ('queued', 'running', 'succeeded', 'failed')", name=op.f('ck_backup_run_state')),
    sa.CheckConstraint("trigger IN ('schedule', 'manual', 'final')", name=op.f('ck_backup_run_trigger')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_backup_run_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_backup_run_incident_id_incident'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['policy_id'], ['backup_policy.id'], name=op.f('fk_backup_run_policy_id_backup_policy'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_backup_run_requested_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['system_id'], ['resource_request.id'], name=op.f('fk_backup_run_system_id_resource_request'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_run'))
    )
    with op.batch_alter_table('backup_run', schema=None) as batch_op:
        batch_op.create_index('ix_backup_run_claim', ['state', 'available_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_run_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_run_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_run_policy_id'), ['policy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_run_system_id'), ['system_id'], unique=False)

    op.create_table('backup_artifact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('openstack_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('source_openstack_id', sa.String(length=64), nullable=False),
    sa.Column('source_key', sa.String(length=160), nullable=False),
    sa.Column('source_info', sa.JSON(), nullable=False),
    sa.Column('size_gb', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verify_outcome', sa.String(length=16), nullable=True),
    sa.Column('verify_detail', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('snapshot', 'volume')", name=op.f('ck_backup_artifact_kind')),
    sa.CheckConstraint("status IN ('creating', 'available', 'error', 'deleted')", name=op.f('ck_backup_artifact_status')),
    sa.CheckConstraint("verify_outcome IS NULL OR verify_outcome IN ('ok', 'failed')", name=op.f('ck_backup_artifact_verify_outcome')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_backup_artifact_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['policy_id'], ['backup_policy.id'], name=op.f('fk_backup_artifact_policy_id_backup_policy'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['backup_run.id'], name=op.f('fk_backup_artifact_run_id_backup_run'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['system_id'], ['resource_request.id'], name=op.f('fk_backup_artifact_system_id_resource_request'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_artifact'))
    )
    with op.batch_alter_table('backup_artifact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backup_artifact_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_artifact_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_artifact_openstack_id'), ['openstack_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_artifact_policy_id'), ['policy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_artifact_run_id'), ['run_id'], unique=False)
        batch_op.create_index('ix_backup_artifact_source', ['department_id', 'source_key', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_artifact_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_artifact_system_id'), ['system_id'], unique=False)

    op.create_table('backup_extraction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('artifact_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_comment', sa.Text(), nullable=False),
    sa.Column('export_volume_id', sa.String(length=64), nullable=False),
    sa.Column('export_image_id', sa.String(length=64), nullable=False),
    sa.Column('export_size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('download_count', sa.Integer(), nullable=False),
    sa.Column('last_downloaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=False),
    sa.Column('error_detail', sa.Text(), nullable=False),
    sa.CheckConstraint("state IN ('applied', 'approved', 'rejected', 'ready', 'expired', 'failed', 'withdrawn')", name=op.f('ck_backup_extraction_state')),
    sa.ForeignKeyConstraint(['artifact_id'], ['backup_artifact.id'], name=op.f('fk_backup_extraction_artifact_id_backup_artifact'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_backup_extraction_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_backup_extraction_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_backup_extraction_requested_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_extraction')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_backup_extraction_token_hash'))
    )
    with op.batch_alter_table('backup_extraction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backup_extraction_artifact_id'), ['artifact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_extraction_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_extraction_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_extraction_state'), ['state'], unique=False)

    op.create_table('restore_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('artifact_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=True),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('target_name', sa.String(length=255), nullable=False),
    sa.Column('target_openstack_id', sa.String(length=64), nullable=False),
    sa.Column('reattach_server_id', sa.String(length=64), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=False),
    sa.Column('error_detail', sa.Text(), nullable=False),
    sa.CheckConstraint("mode IN ('new_volume', 'in_place', 'server_rebuild', 'new_server')", name=op.f('ck_restore_job_mode')),
    sa.CheckConstraint("state IN ('running', 'succeeded', 'failed')", name=op.f('ck_restore_job_state')),
    sa.ForeignKeyConstraint(['artifact_id'], ['backup_artifact.id'], name=op.f('fk_restore_job_artifact_id_backup_artifact'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_restore_job_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_restore_job_requested_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['system_id'], ['resource_request.id'], name=op.f('fk_restore_job_system_id_resource_request'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_restore_job'))
    )
    with op.batch_alter_table('restore_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_restore_job_artifact_id'), ['artifact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_restore_job_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_restore_job_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_restore_job_system_id'), ['system_id'], unique=False)

    # the decommission guard (第十条二): the department's note when it confirms the data was migrated
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('migration_note', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.alter_column('migration_note', server_default=None)


def downgrade():
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.drop_column('migration_note')

    with op.batch_alter_table('restore_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_restore_job_system_id'))
        batch_op.drop_index(batch_op.f('ix_restore_job_state'))
        batch_op.drop_index(batch_op.f('ix_restore_job_department_id'))
        batch_op.drop_index(batch_op.f('ix_restore_job_artifact_id'))

    op.drop_table('restore_job')
    with op.batch_alter_table('backup_extraction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backup_extraction_state'))
        batch_op.drop_index(batch_op.f('ix_backup_extraction_expires_at'))
        batch_op.drop_index(batch_op.f('ix_backup_extraction_department_id'))
        batch_op.drop_index(batch_op.f('ix_backup_extraction_artifact_id'))

    op.drop_table('backup_extraction')
    with op.batch_alter_table('backup_artifact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backup_artifact_system_id'))
        batch_op.drop_index(batch_op.f('ix_backup_artifact_status'))
        batch_op.drop_index('ix_backup_artifact_source')
        batch_op.drop_index(batch_op.f('ix_backup_artifact_run_id'))
        batch_op.drop_index(batch_op.f('ix_backup_artifact_policy_id'))
        batch_op.drop_index(batch_op.f('ix_backup_artifact_openstack_id'))
        batch_op.drop_index(batch_op.f('ix_backup_artifact_department_id'))
        batch_op.drop_index(batch_op.f('ix_backup_artifact_created_at'))

    op.drop_table('backup_artifact')
    with op.batch_alter_table('backup_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backup_run_system_id'))
        batch_op.drop_index(batch_op.f('ix_backup_run_policy_id'))
        batch_op.drop_index(batch_op.f('ix_backup_run_department_id'))
        batch_op.drop_index(batch_op.f('ix_backup_run_created_at'))
        batch_op.drop_index('ix_backup_run_claim')

    op.drop_table('backup_run')
    with op.batch_alter_table('backup_policy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backup_policy_system_id'))
        batch_op.drop_index('ix_backup_policy_due')
        batch_op.drop_index(batch_op.f('ix_backup_policy_department_id'))

    op.drop_table('backup_policy')
