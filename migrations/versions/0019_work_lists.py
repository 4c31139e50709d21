"""work lists: cases a manager hands from one caseworker to another (case_handover); requests to an
agency to share a person's record (share_request)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 01:40:00

A new table only: no existing data moves.
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_handover',
        sa.Column('case_id', sa.Uuid(), nullable=False),
        sa.Column('from_user_id', sa.Uuid(), nullable=True),
        sa.Column('to_user_id', sa.Uuid(), nullable=False),
        sa.Column('by_user_id', sa.Uuid(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_handover_case_id_case'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['from_user_id'], ['user_account.id'],
                                name=op.f('fk_case_handover_from_user_id_user_account')),
        sa.ForeignKeyConstraint(['to_user_id'], ['user_account.id'],
                                name=op.f('fk_case_handover_to_user_id_user_account'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['by_user_id'], ['user_account.id'],
                                name=op.f('fk_case_handover_by_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_handover')),
    )
    with op.batch_alter_table('case_handover', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_handover_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_handover_to_seen', ['to_user_id', 'seen_at'], unique=False)
    op.create_table(
        'share_request',
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('owner_agency_id', sa.Uuid(), nullable=False),
        sa.Column('requesting_agency_id', sa.Uuid(), nullable=False),
        sa.Column('requested_by_id', sa.Uuid(), nullable=False),
        sa.Column('reason', sa.LargeBinary(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('decided_by_id', sa.Uuid(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decline_reason', sa.LargeBinary(), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_share_request_person_id_person'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['owner_agency_id'], ['agency.id'],
                                name=op.f('fk_share_request_owner_agency_id_agency')),
        sa.ForeignKeyConstraint(['requesting_agency_id'], ['agency.id'],
                                name=op.f('fk_share_request_requesting_agency_id_agency')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'],
                                name=op.f('fk_share_request_requested_by_id_user_account')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'],
                                name=op.f('fk_share_request_decided_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_share_request')),
    )
    with op.batch_alter_table('share_request', schema=None) as batch_op:
        batch_op.create_index('ix_share_request_owner_status', ['owner_agency_id', 'status'], unique=False)
        batch_op.create_index('ix_share_request_person_agency', ['person_id', 'requesting_agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_share_request_requested_by_id'), ['requested_by_id'], unique=False)


def downgrade() -> None:
    op.drop_table('share_request')
    op.drop_table('case_handover')
