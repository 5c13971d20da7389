"""billing: metering runs, usage, rate card, statements, monthly reports

Revision ID: 0005b
Revises: 0004m
Create Date: 2026-11-26 20:59:34.138304
"""
from alembic import op
import sqlalchemy as sa


revision = '0005b'
down_revision = '0004m'
branch_labels = None
depends_on = None


# A frozen 费用结算单 is refused by the database too, whatever client writes (the ORM guard in
# portal/billing_models.py says so first, with a message for people).
PG_GUARDS = [
    """CREATE FUNCTION statement_frozen_guard() RETURNS trigger AS $$
    BEGIN
        IF OLD.state = 'frozen' THEN
            RAISE EXCEPTION 'statement % is frozen', OLD.id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER statement_frozen BEFORE UPDATE ON statement
    FOR EACH ROW EXECUTE FUNCTION statement_frozen_guard()""",
    """CREATE FUNCTION statement_line_frozen_guard() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM statement WHERE id = NEW.statement_id AND state = 'frozen') THEN
            RAISE EXCEPTION 'statement % is frozen', NEW.statement_id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER statement_line_frozen BEFORE INSERT OR UPDATE ON statement_line
    FOR EACH ROW EXECUTE FUNCTION statement_line_frozen_guard()""",
]
SQLITE_GUARDS = [
    """CREATE TRIGGER statement_frozen BEFORE UPDATE ON statement WHEN OLD.state = 'frozen'
    BEGIN SELECT RAISE(ABORT, 'statement is frozen'); END""",
    """CREATE TRIGGER statement_line_frozen_update BEFORE UPDATE ON statement_line
    WHEN (SELECT state FROM statement WHERE id = NEW.statement_id) = 'frozen'
    BEGIN SELECT RAISE(ABORT, 'statement is frozen'); END""",
    """CREATE TRIGGER statement_line_frozen_insert BEFORE INSERT ON statement_line
    WHEN (SELECT state FROM statement WHERE id = NEW.statement_id) = 'frozen'
    BEGIN SELECT RAISE(ABORT, 'statement is frozen'); END""",
]


def upgrade():
    op.create_table('metering_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interval_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('interval_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('resources', sa.Integer(), nullable=False),
    sa.Column('unknown_projects', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('baseline', 'ok', 'gap')", name=op.f('ck_metering_run_state')),
    sa.CheckConstraint('interval_start IS NULL OR interval_end > interval_start', name=op.f('ck_metering_run_interval_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metering_run')),
    sa.UniqueConstraint('interval_end', name=op.f('uq_metering_run_interval_end')),
    sa.UniqueConstraint('interval_start', name=op.f('uq_metering_run_interval_start'))
    )
    op.create_table('monthly_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('generated_by', sa.String(length=64), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_report'))
    )
    op.create_table('rate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_type', sa.String(length=64), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=14, scale=6), nullable=False),
    sa.Column('effective_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_rate_price_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate')),
    sa.UniqueConstraint('resource_type', 'effective_from', name='uq_rate_resource_type')
    )
    op.create_table('monthly_report_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_monthly_report_entry_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['report_id'], ['monthly_report.id'], name=op.f('fk_monthly_report_entry_report_id_monthly_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_report_entry'))
    )
    with op.batch_alter_table('monthly_report_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_report_entry_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monthly_report_entry_report_id'), ['report_id'], unique=False)

    op.create_table('statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('gap_seconds', sa.BigInteger(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by', sa.String(length=64), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('frozen_by', sa.String(length=64), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint("state IN ('draft', 'reviewed', 'frozen')", name=op.f('ck_statement_state')),
    sa.CheckConstraint('month BETWEEN 1 AND 12', name=op.f('ck_statement_month')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_statement_department_id_department'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement')),
    sa.UniqueConstraint('department_id', 'year', 'month', 'version', name='uq_statement_department_id')
    )
    with op.batch_alter_table('statement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_department_id'), ['department_id'], unique=False)

    op.create_table('statement_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=True),
    sa.Column('system_name', sa.String(length=120), nullable=False),
    sa.Column('resource_type', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rate_id', sa.Integer(), nullable=True),
    sa.Column('unit_price', sa.Numeric(precision=14, scale=6), nullable=False),
    sa.Column('unit_seconds', sa.BigInteger(), nullable=False),
    sa.Column('quantity_hours', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['rate_id'], ['rate.id'], name=op.f('fk_statement_line_rate_id_rate'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['statement_id'], ['statement.id'], name=op.f('fk_statement_line_statement_id_statement'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_line'))
    )
    with op.batch_alter_table('statement_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_line_statement_id'), ['statement_id'], unique=False)

    op.create_table('usage_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=True),
    sa.Column('system_key', sa.String(length=32), nullable=False),
    sa.Column('system_name', sa.String(length=120), nullable=False),
    sa.Column('resource_type', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('interval_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('interval_end', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_usage_record_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['run_id'], ['metering_run.id'], name=op.f('fk_usage_record_run_id_metering_run'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['system_id'], ['resource_request.id'], name=op.f('fk_usage_record_system_id_resource_request'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_record')),
    sa.UniqueConstraint('run_id', 'department_id', 'system_key', 'resource_type', name='uq_usage_record_run_id')
    )
    with op.batch_alter_table('usage_record', schema=None) as batch_op:
        batch_op.create_index('ix_usage_record_department_period', ['department_id', 'interval_start'], unique=False)
        batch_op.create_index(batch_op.f('ix_usage_record_run_id'), ['run_id'], unique=False)

    for sql in PG_GUARDS if op.get_bind().dialect.name == "postgresql" else SQLITE_GUARDS:
        op.execute(sql)



def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS statement_line_frozen ON statement_line")
        op.execute("DROP TRIGGER IF EXISTS statement_frozen ON statement")
        op.execute("DROP FUNCTION IF EXISTS statement_line_frozen_guard()")
        op.execute("DROP FUNCTION IF EXISTS statement_frozen_guard()")
    else:
        for name in ("statement_frozen", "statement_line_frozen_update", "statement_line_frozen_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table('usage_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_usage_record_run_id'))
        batch_op.drop_index('ix_usage_record_department_period')

    op.drop_table('usage_record')
    with op.batch_alter_table('statement_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_line_statement_id'))

    op.drop_table('statement_line')
    with op.batch_alter_table('statement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_department_id'))

    op.drop_table('statement')
    with op.batch_alter_table('monthly_report_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monthly_report_entry_report_id'))
        batch_op.drop_index(batch_op.f('ix_monthly_report_entry_department_id'))

    op.drop_table('monthly_report_entry')
    op.drop_table('rate')
    op.drop_table('monthly_report')
    op.drop_table('metering_run')
