"""documents kept with a record (document) and their sealed bytes (document_chunk)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 03:40:00

New tables only: no existing data moves.
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'document',
        sa.Column('record_kind', sa.String(length=16), nullable=False),
        sa.Column('record_id', sa.Uuid(), nullable=False),
        sa.Column('title', sa.LargeBinary(), nullable=False),
        sa.Column('filename', sa.LargeBinary(), nullable=True),
        sa.Column('content_key', sa.LargeBinary(), nullable=True),
        sa.Column('document_date', sa.Date(), nullable=False),
        sa.Column('media_type', sa.String(length=80), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('chunks', sa.Integer(), nullable=False),
        sa.Column('added_by_id', sa.Uuid(), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['added_by_id'], ['user_account.id'],
                                name=op.f('fk_document_added_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document')),
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index('ix_document_record', ['record_kind', 'record_id'], unique=False)
    op.create_table(
        'document_chunk',
        sa.Column('document_id', sa.Uuid(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('sealed', sa.LargeBinary(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_document_chunk_document_id_document'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_chunk')),
        sa.UniqueConstraint('document_id', 'position', name=op.f('uq_document_chunk_document_id_position')),
    )


def downgrade() -> None:
    op.drop_table('document_chunk')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index('ix_document_record')
    op.drop_table('document')
