"""backup policies, runs, artifacts, restores, extractions

Revision ID: 0008k
Revises: 0007p
Create Date: 2026-11-26 23:45:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0008k'
down_revision = '0007p'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
