"""reviews after a death (dardr_review, dardr_agency_request, dardr_family_contact,
dardr_recommendation); a person's equality information (person.ethnicity, disability,
sexual_orientation, gender_identity, sealed; person.equality_agreed_on)

Revision ID: 0025
Revises: 0019
Create Date: 2026-12-07 03:40:00

New tables and nullable columns only: no existing data moves.
"""

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def _base() -> list[sa.Column]:
    return [sa.Column('id', sa.Uuid(), nullable=False),
            sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
            sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False)]


def _review_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(['review_id'], ['dardr_review.id'], name=f'fk_{table}_review_id_dardr_review',
                                   ondelete='CASCADE')


def upgrade() -> None:
    # Plain ADD / DROP COLUMN (both databases): a batch copy of `person` would lose its expression indexes.
    for name in ('ethnicity', 'disability', 'sexual_orientation', 'gender_identity'):
        op.add_column('person', sa.Column(name, sa.LargeBinary(), nullable=True))
    op.add_column('person', sa.Column('equality_agreed_on', sa.Date(), nullable=True))

    op.create_table(
        'dardr_review',
        sa.Column('reference', sa.String(length=20), nullable=False),
        sa.Column('owner_agency_id', sa.Uuid(), nullable=False),
        sa.Column('created_by_id', sa.Uuid(), nullable=True),
        sa.Column('notified_on', sa.Date(), nullable=False),
        sa.Column('subject', sa.LargeBinary(), nullable=False),
        sa.Column('circumstances', sa.LargeBinary(), nullable=True),
        sa.Column('decision', sa.String(length=32), nullable=True),
        sa.Column('decided_on', sa.Date(), nullable=True),
        sa.Column('decision_reason', sa.LargeBinary(), nullable=True),
        sa.Column('chair', sa.LargeBinary(), nullable=True),
        sa.Column('panel', sa.LargeBinary(), nullable=True),
        sa.Column('submitted_on', sa.Date(), nullable=True),
        sa.Column('qa_outcome', sa.LargeBinary(), nullable=True),
        sa.Column('published_on', sa.Date(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        *_base(),
        sa.ForeignKeyConstraint(['owner_agency_id'], ['agency.id'], name='fk_dardr_review_owner_agency_id_agency'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name='fk_dardr_review_created_by_id_user_account'),
        sa.PrimaryKeyConstraint('id', name='pk_dardr_review'),
        sa.UniqueConstraint('reference', name='uq_dardr_review_reference'),
    )
    op.create_index('ix_dardr_review_owner_agency_id', 'dardr_review', ['owner_agency_id'])

    op.create_table(
        'dardr_agency_request',
        sa.Column('review_id', sa.Uuid(), nullable=False),
        sa.Column('agency_id', sa.Uuid(), nullable=False),
        sa.Column('requested_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=True),
        *_base(),
        _review_fk('dardr_agency_request'),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name='fk_dardr_agency_request_agency_id_agency'),
        sa.PrimaryKeyConstraint('id', name='pk_dardr_agency_request'),
        sa.UniqueConstraint('review_id', 'agency_id', name='uq_dardr_agency_request_review_id_agency_id'),
    )
    op.create_index('ix_dardr_agency_request_review_id', 'dardr_agency_request', ['review_id'])
    op.create_index('ix_dardr_agency_request_agency_id', 'dardr_agency_request', ['agency_id'])

    op.create_table(
        'dardr_family_contact',
        sa.Column('review_id', sa.Uuid(), nullable=False),
        sa.Column('contacted_on', sa.Date(), nullable=False),
        sa.Column('summary', sa.LargeBinary(), nullable=False),
        sa.Column('by_id', sa.Uuid(), nullable=True),
        *_base(),
        _review_fk('dardr_family_contact'),
        sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], name='fk_dardr_family_contact_by_id_user_account'),
        sa.PrimaryKeyConstraint('id', name='pk_dardr_family_contact'),
    )
    op.create_index('ix_dardr_family_contact_review_id', 'dardr_family_contact', ['review_id'])

    op.create_table(
        'dardr_recommendation',
        sa.Column('review_id', sa.Uuid(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('text', sa.LargeBinary(), nullable=False),
        sa.Column('themes', sa.String(length=400), nullable=False),
        sa.Column('owner_agency_id', sa.Uuid(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('evidence', sa.LargeBinary(), nullable=True),
        sa.Column('completed_on', sa.Date(), nullable=True),
        sa.Column('updated_by_id', sa.Uuid(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        *_base(),
        _review_fk('dardr_recommendation'),
        sa.ForeignKeyConstraint(['owner_agency_id'], ['agency.id'],
                                name='fk_dardr_recommendation_owner_agency_id_agency'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'],
                                name='fk_dardr_recommendation_updated_by_id_user_account'),
        sa.PrimaryKeyConstraint('id', name='pk_dardr_recommendation'),
        sa.UniqueConstraint('review_id', 'number', name='uq_dardr_recommendation_review_id_number'),
    )
    op.create_index('ix_dardr_recommendation_review_id', 'dardr_recommendation', ['review_id'])
    op.create_index('ix_dardr_recommendation_owner_agency_id', 'dardr_recommendation', ['owner_agency_id'])
    op.create_index('ix_dardr_recommendation_due_on', 'dardr_recommendation', ['due_on'])


def downgrade() -> None:
    op.drop_table('dardr_recommendation')
    op.drop_table('dardr_family_contact')
    op.drop_table('dardr_agency_request')
    op.drop_table('dardr_review')
    for name in ('equality_agreed_on', 'gender_identity', 'sexual_orientation', 'disability', 'ethnicity'):
        op.execute(f'ALTER TABLE person DROP COLUMN {name}')
