"""referrals: routes from a referral type to the services that act on it (referral_route)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 01:35:00

Each route names a receiving agency and the role of its people who decide the referral. Existing
referrals are left exactly as they were: a referral already made to an agency with no route for its
type stays where it is and is listed on the admin page "Referral routes" to be re-routed (the move is
audited there). No route is made up from past referrals: which service receives a type is an
administrator's decision (`casework referral-routes set`, or the admin page). See docs/referral-routes.md.
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'referral_route',
        sa.Column('type', sa.Enum('hrda', 'idva', 'mappa', 'perpetrator_programme', name='referraltype',
                                  native_enum=False, length=32, create_constraint=False), nullable=False),
        sa.Column('agency_id', sa.Uuid(), nullable=False),
        sa.Column('role', sa.Enum('caseworker', 'hrda_chair', 'manager', 'admin', name='role',
                                  native_enum=False, length=32, create_constraint=False), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_referral_route_agency_id_agency')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_route')),
        sa.UniqueConstraint('type', 'agency_id', name=op.f('uq_referral_route_type_agency_id')),
    )
    with op.batch_alter_table('referral_route', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_route_agency_id'), ['agency_id'], unique=False)


def downgrade() -> None:
    op.drop_table('referral_route')
