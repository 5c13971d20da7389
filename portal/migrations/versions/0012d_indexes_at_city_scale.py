"""indexes at a city's scale: a department's requests and events, the report's months, the audit
search by object or actor

Revision ID: 0012d
Revises: 0012h
Create Date: 2026-12-01 16:00:00

Measured with bench/portal_scale.py (100,000 requests, 2,000,000 audit events): without them a
search by object id or actor reads the whole audit log, a department's export of a month reads
every department's month, and the monthly report reads every request.
"""
from alembic import op


revision = '0012d'
down_revision = '0012h'
branch_labels = None
depends_on = None

INDEXES = (
    ('resource_request', 'ix_resource_request_department_id_id', ['department_id', 'id']),
    ('resource_request', 'ix_resource_request_submitted_at', ['submitted_at']),
    ('resource_request', 'ix_resource_request_approved_at', ['approved_at']),
    ('resource_request', 'ix_resource_request_provisioned_at', ['provisioned_at']),
    ('audit_event', 'ix_audit_event_object_id', ['object_id']),
    ('audit_event', 'ix_audit_event_actor_username', ['actor_username']),
    ('audit_event', 'ix_audit_event_department_id_occurred_at', ['department_id', 'occurred_at']),
)


def upgrade():
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
