"""HRDA meetings: meetings, invited agencies, cases heard, research, actions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 11:34:52.248904
"""

from alembic import op
import sqlalchemy as sa
import casework.models.base


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meeting',
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', casework.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('state', sa.Enum('planned', 'in_progress', 'closed', name='meetingstate', native_enum=False, length=32, create_constraint=False), nullable=False),
    sa.Column('series_id', sa.Uuid(), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('closed_at', casework.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', casework.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', casework.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_meeting_agency_id_agency')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user_account.id'], name=op.f('fk_meeting_closed_by_id_user_account')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_meeting_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting'))
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_series_id'), ['series_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_starts_at'), ['starts_at'], unique=False)

    op.create_table('meeting_agency',
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', casework.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', casework.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_meeting_agency_agency_id_agency')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_agency_meeting_id_meeting'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_agency')),
    sa.UniqueConstraint('meeting_id', 'agency_id', name=op.f('uq_meeting_agency_meeting_id_agency_id'))
    )
    with op.batch_alter_table('meeting_agency', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_agency_agency_id'), ['agency_id'], unique=False)

    op.create_table('meeting_case',
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('discussion', sa.LargeBinary(), nullable=True),
    sa.Column('safety_plan', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', casework.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', casework.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_case_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_meeting_case_referral_id_referral')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_case')),
    sa.UniqueConstraint('referral_id', name=op.f('uq_meeting_case_referral_id'))
    )
    with op.batch_alter_table('meeting_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_case_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('meeting_action',
    sa.Column('meeting_case_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'done', name='actionstatus', native_enum=False, length=32, create_constraint=False), nullable=False),
    sa.Column('done_at', casework.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by_id', sa.Uuid(), nullable=True),
    sa.Column('text', sa.LargeBinary(), nullable=False),
    sa.Column('person_name', sa.LargeBinary(), nullable=True),
    sa.Column('progress', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', casework.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', casework.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_meeting_action_agency_id_agency')),
    sa.ForeignKeyConstraint(['done_by_id'], ['user_account.id'], name=op.f('fk_meeting_action_done_by_id_user_account')),
    sa.ForeignKeyConstraint(['meeting_case_id'], ['meeting_case.id'], name=op.f('fk_meeting_action_meeting_case_id_meeting_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_action'))
    )
    with op.batch_alter_table('meeting_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_action_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_action_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_action_meeting_case_id'), ['meeting_case_id'], unique=False)

    op.create_table('meeting_research',
    sa.Column('meeting_case_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('facts', sa.LargeBinary(), nullable=True),
    sa.Column('opinion', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', casework.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', casework.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_meeting_research_agency_id_agency')),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_meeting_research_author_id_user_account')),
    sa.ForeignKeyConstraint(['meeting_case_id'], ['meeting_case.id'], name=op.f('fk_meeting_research_meeting_case_id_meeting_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_research')),
    sa.UniqueConstraint('meeting_case_id', 'agency_id', name=op.f('uq_meeting_research_meeting_case_id_agency_id'))
    )
    with op.batch_alter_table('meeting_research', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_research_agency_id'), ['agency_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('meeting_research', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_research_agency_id'))

    op.drop_table('meeting_research')
    with op.batch_alter_table('meeting_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_action_meeting_case_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_action_due_on'))
        batch_op.drop_index(batch_op.f('ix_meeting_action_agency_id'))

    op.drop_table('meeting_action')
    with op.batch_alter_table('meeting_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_case_meeting_id'))

    op.drop_table('meeting_case')
    with op.batch_alter_table('meeting_agency', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_agency_agency_id'))

    op.drop_table('meeting_agency')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_starts_at'))
        batch_op.drop_index(batch_op.f('ix_meeting_series_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_agency_id'))

    op.drop_table('meeting')
