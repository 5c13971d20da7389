"""provisioning operations: rollback, resolve, reconciler findings, step timings

Revision ID: 0007p
Revises: 0006g
Create Date: 2026-11-26 23:45:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0007p'
down_revision = '0006g'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
