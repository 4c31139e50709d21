"""orders and powers (issue 17 §2): order_power, the incidents that led to one (order_incident) and
its breaches (order_breach)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 03:40:00

New tables only: no existing data moves.
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def _common() -> list[sa.Column]:
    return [sa.Column('id', sa.Uuid(), nullable=False),
            sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
            sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False)]


def upgrade() -> None:
    op.create_table(
        'order_power',
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('owner_agency_id', sa.Uuid(), nullable=False),
        sa.Column('applied_on', sa.Date(), nullable=True),
        sa.Column('issued_on', sa.Date(), nullable=True),
        sa.Column('served_on', sa.Date(), nullable=True),
        sa.Column('expires_on', sa.Date(), nullable=True),
        sa.Column('review_on', sa.Date(), nullable=True),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('conditions', sa.LargeBinary(), nullable=True),
        sa.Column('recorded_by_id', sa.Uuid(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        *_common(),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_order_power_person_id_person')),
        sa.ForeignKeyConstraint(['owner_agency_id'], ['agency.id'], name=op.f('fk_order_power_owner_agency_id_agency')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'],
                                name=op.f('fk_order_power_recorded_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_power')),
    )
    with op.batch_alter_table('order_power', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_power_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_power_owner_agency_id'), ['owner_agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_power_expires_on'), ['expires_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_power_review_on'), ['review_on'], unique=False)
        batch_op.create_index('ix_order_power_issued_on_kind', ['issued_on', 'kind'], unique=False)
    op.create_table(
        'order_incident',
        sa.Column('order_id', sa.Uuid(), nullable=False),
        sa.Column('incident_id', sa.Uuid(), nullable=False),
        *_common(),
        sa.ForeignKeyConstraint(['order_id'], ['order_power.id'], name=op.f('fk_order_incident_order_id_order_power'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_order_incident_incident_id_incident'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_incident')),
        sa.UniqueConstraint('order_id', 'incident_id', name=op.f('uq_order_incident_order_id_incident_id')),
    )
    with op.batch_alter_table('order_incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_incident_incident_id'), ['incident_id'], unique=False)
    op.create_table(
        'order_breach',
        sa.Column('order_id', sa.Uuid(), nullable=False),
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('breached_on', sa.Date(), nullable=False),
        sa.Column('incident_id', sa.Uuid(), nullable=True),
        sa.Column('details', sa.LargeBinary(), nullable=True),
        sa.Column('recorded_by_id', sa.Uuid(), nullable=True),
        *_common(),
        sa.ForeignKeyConstraint(['order_id'], ['order_power.id'], name=op.f('fk_order_breach_order_id_order_power'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_order_breach_person_id_person')),
        sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_order_breach_incident_id_incident'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'],
                                name=op.f('fk_order_breach_recorded_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_breach')),
    )
    with op.batch_alter_table('order_breach', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_breach_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_breach_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_table('order_breach')
    op.drop_table('order_incident')
    op.drop_table('order_power')
