"""the partnership's plan and its delivery (plan, plan_priority, plan_issue, plan_activity,
plan_activity_partner, activity_update) and local problem-solving (local_problem,
local_problem_partner, local_problem_action); an index of incidents by locality and date

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 03:40:00

New tables and one new index: no existing data moves.
"""

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def _base() -> list[sa.Column]:
    return [sa.Column('id', sa.Uuid(), nullable=False),
            sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
            sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False)]


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        'plan',
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('first_year', sa.Integer(), nullable=False),
        sa.Column('last_year', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('copied_from_id', sa.Uuid(), nullable=True),
        *_base(),
        _fk('plan', 'copied_from_id', 'plan'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan')),
        sa.UniqueConstraint('title', 'year', name=op.f('uq_plan_title_year')),
    )
    op.create_table(
        'plan_priority',
        sa.Column('plan_id', sa.Uuid(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('aim', sa.Text(), nullable=True),
        sa.Column('measure_ids', sa.String(length=200), nullable=False),
        *_base(),
        _fk('plan_priority', 'plan_id', 'plan', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_priority')),
    )
    op.create_index(op.f('ix_plan_priority_plan_id'), 'plan_priority', ['plan_id'], unique=False)
    op.create_table(
        'plan_issue',
        sa.Column('plan_id', sa.Uuid(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        *_base(),
        _fk('plan_issue', 'plan_id', 'plan', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_issue')),
    )
    op.create_index(op.f('ix_plan_issue_plan_id'), 'plan_issue', ['plan_id'], unique=False)
    op.create_table(
        'plan_activity',
        sa.Column('priority_id', sa.Uuid(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('lead_agency_id', sa.Uuid(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('copied_from_id', sa.Uuid(), nullable=True),
        *_base(),
        _fk('plan_activity', 'priority_id', 'plan_priority', 'CASCADE'),
        _fk('plan_activity', 'lead_agency_id', 'agency'),
        _fk('plan_activity', 'copied_from_id', 'plan_activity'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_activity')),
    )
    for column in ('priority_id', 'lead_agency_id', 'copied_from_id'):
        op.create_index(op.f(f'ix_plan_activity_{column}'), 'plan_activity', [column], unique=False)
    op.create_table(
        'plan_activity_partner',
        sa.Column('activity_id', sa.Uuid(), nullable=False),
        sa.Column('agency_id', sa.Uuid(), nullable=False),
        *_base(),
        _fk('plan_activity_partner', 'activity_id', 'plan_activity', 'CASCADE'),
        _fk('plan_activity_partner', 'agency_id', 'agency'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_activity_partner')),
        sa.UniqueConstraint('activity_id', 'agency_id', name=op.f('uq_plan_activity_partner_activity_id_agency_id')),
    )
    op.create_index(op.f('ix_plan_activity_partner_agency_id'), 'plan_activity_partner', ['agency_id'],
                    unique=False)
    op.create_table(
        'activity_update',
        sa.Column('activity_id', sa.Uuid(), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('narrative', sa.Text(), nullable=False),
        sa.Column('updated_on', sa.Date(), nullable=False),
        sa.Column('written_by_id', sa.Uuid(), nullable=True),
        sa.Column('agency_id', sa.Uuid(), nullable=False),
        *_base(),
        _fk('activity_update', 'activity_id', 'plan_activity', 'CASCADE'),
        _fk('activity_update', 'written_by_id', 'user_account'),
        _fk('activity_update', 'agency_id', 'agency'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_update')),
    )
    op.create_index('ix_activity_update_activity_on', 'activity_update', ['activity_id', 'updated_on'],
                    unique=False)
    op.create_table(
        'local_problem',
        sa.Column('group_name', sa.String(length=200), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('locality', sa.String(length=200), nullable=True),
        sa.Column('area_id', sa.Uuid(), nullable=True),
        sa.Column('categories', sa.String(length=500), nullable=False),
        sa.Column('started_on', sa.Date(), nullable=False),
        sa.Column('recorded_by_id', sa.Uuid(), nullable=True),
        sa.Column('closed_on', sa.Date(), nullable=True),
        sa.Column('outcome', sa.Text(), nullable=True),
        *_base(),
        _fk('local_problem', 'area_id', 'area'),
        _fk('local_problem', 'recorded_by_id', 'user_account'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_local_problem')),
    )
    op.create_index(op.f('ix_local_problem_area_id'), 'local_problem', ['area_id'], unique=False)
    op.create_index(op.f('ix_local_problem_closed_on'), 'local_problem', ['closed_on'], unique=False)
    op.create_table(
        'local_problem_partner',
        sa.Column('problem_id', sa.Uuid(), nullable=False),
        sa.Column('agency_id', sa.Uuid(), nullable=False),
        *_base(),
        _fk('local_problem_partner', 'problem_id', 'local_problem', 'CASCADE'),
        _fk('local_problem_partner', 'agency_id', 'agency'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_local_problem_partner')),
        sa.UniqueConstraint('problem_id', 'agency_id', name=op.f('uq_local_problem_partner_problem_id_agency_id')),
    )
    op.create_index(op.f('ix_local_problem_partner_agency_id'), 'local_problem_partner', ['agency_id'],
                    unique=False)
    op.create_table(
        'local_problem_action',
        sa.Column('problem_id', sa.Uuid(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('owner_agency_id', sa.Uuid(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('done_on', sa.Date(), nullable=True),
        *_base(),
        _fk('local_problem_action', 'problem_id', 'local_problem', 'CASCADE'),
        _fk('local_problem_action', 'owner_agency_id', 'agency'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_local_problem_action')),
    )
    op.create_index(op.f('ix_local_problem_action_problem_id'), 'local_problem_action', ['problem_id'],
                    unique=False)
    op.create_index(op.f('ix_local_problem_action_owner_agency_id'), 'local_problem_action',
                    ['owner_agency_id'], unique=False)
    op.create_index('ix_incident_locality_occurred_on', 'incident', ['locality', 'occurred_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_incident_locality_occurred_on', table_name='incident')
    for table in ('local_problem_action', 'local_problem_partner', 'local_problem', 'activity_update',
                  'plan_activity_partner', 'plan_activity', 'plan_issue', 'plan_priority', 'plan'):
        op.drop_table(table)
