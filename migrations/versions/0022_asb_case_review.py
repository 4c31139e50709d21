"""ASB case reviews: applications (asb_case_review), their panels (asb_review_panel) and
recommendations (asb_recommendation); incidents gain the optional reported_on

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-07 03:40:00

New tables, a nullable column and indexes (person.merged_into_id; incident (area_id, category,
occurred_on)): no existing data moves (an incident's blank reported_on means the day it occurred).
"""

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0025'
branch_labels = None
depends_on = None


def _base() -> list[sa.Column]:
    return [sa.Column('id', sa.Uuid(), nullable=False),
            sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
            sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False)]


def _fk(table: str, column: str, target: str, **kw: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'), **kw)


def upgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reported_on', sa.Date(), nullable=True))
        batch_op.create_index('ix_incident_area_category_occurred_on', ['area_id', 'category', 'occurred_on'],
                                unique=False)
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index('ix_person_merged_into_id', ['merged_into_id'], unique=False,
                              sqlite_where=sa.text('merged_into_id IS NOT NULL'),
                              postgresql_where=sa.text('merged_into_id IS NOT NULL'))

    t = 'asb_case_review'
    op.create_table(
        t,
        sa.Column('review_ref', sa.String(length=60), nullable=False),
        sa.Column('person_id', sa.Uuid(), nullable=True),
        sa.Column('area_id', sa.Uuid(), nullable=True),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('receiving_agency_id', sa.Uuid(), nullable=False),
        sa.Column('caseworker_id', sa.Uuid(), nullable=True),
        sa.Column('applicant', sa.String(length=32), nullable=True),
        sa.Column('applicant_name', sa.LargeBinary(), nullable=True),
        sa.Column('victim_consent', sa.Boolean(), nullable=True),
        sa.Column('behaviour', sa.LargeBinary(), nullable=True),
        sa.Column('decision', sa.String(length=32), nullable=True),
        sa.Column('decided_on', sa.Date(), nullable=True),
        sa.Column('decided_by_id', sa.Uuid(), nullable=True),
        sa.Column('decision_reason', sa.LargeBinary(), nullable=True),
        sa.Column('threshold_by_rule', sa.Boolean(), nullable=True),
        sa.Column('review_held_on', sa.Date(), nullable=True),
        sa.Column('imported_recommendations', sa.Integer(), nullable=False),
        sa.Column('outcome_sent_on', sa.Date(), nullable=True),
        sa.Column('appeal_received_on', sa.Date(), nullable=True),
        sa.Column('appeal_decided_on', sa.Date(), nullable=True),
        sa.Column('appeal_upheld', sa.Boolean(), nullable=True),
        sa.Column('imported', sa.Boolean(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        *_base(),
        _fk(t, 'person_id', 'person'),
        _fk(t, 'area_id', 'area'),
        _fk(t, 'receiving_agency_id', 'agency'),
        _fk(t, 'caseworker_id', 'user_account'),
        _fk(t, 'decided_by_id', 'user_account'),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{t}')),
        sa.UniqueConstraint('review_ref', name=op.f(f'uq_{t}_review_ref')),
    )
    with op.batch_alter_table(t, schema=None) as batch_op:
        batch_op.create_index('ix_asb_case_review_received_on', ['received_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_asb_case_review_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_asb_case_review_receiving_agency_id'), ['receiving_agency_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_asb_case_review_caseworker_id'), ['caseworker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_asb_case_review_appeal_received_on'), ['appeal_received_on'],
                              unique=False)

    t = 'asb_review_panel'
    op.create_table(
        t,
        sa.Column('review_id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=True),
        sa.Column('agency_id', sa.Uuid(), nullable=False),
        *_base(),
        _fk(t, 'review_id', 'asb_case_review', ondelete='CASCADE'),
        _fk(t, 'user_id', 'user_account'),
        _fk(t, 'agency_id', 'agency'),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{t}')),
        sa.UniqueConstraint('review_id', 'user_id', 'agency_id', name=op.f(f'uq_{t}_review_id_user_id_agency_id')),
    )
    with op.batch_alter_table(t, schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asb_review_panel_user_id'), ['user_id'], unique=False)

    t = 'asb_recommendation'
    op.create_table(
        t,
        sa.Column('review_id', sa.Uuid(), nullable=False),
        sa.Column('text', sa.LargeBinary(), nullable=False),
        sa.Column('owner_agency_id', sa.Uuid(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('done_on', sa.Date(), nullable=True),
        *_base(),
        _fk(t, 'review_id', 'asb_case_review', ondelete='CASCADE'),
        _fk(t, 'owner_agency_id', 'agency'),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{t}')),
    )
    with op.batch_alter_table(t, schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asb_recommendation_review_id'), ['review_id'], unique=False)
        batch_op.create_index('ix_asb_recommendation_owner_status', ['owner_agency_id', 'status', 'due_on'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('asb_recommendation')
    op.drop_table('asb_review_panel')
    op.drop_table('asb_case_review')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_merged_into_id')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_area_category_occurred_on')
        batch_op.drop_column('reported_on')
