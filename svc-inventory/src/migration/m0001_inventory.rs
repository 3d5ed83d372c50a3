//! Stock with its invariants as CHECKs, reservations and their lines, the ledger, the outbox,
//! and the restock fence.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, integer, pk_auto, pk_uuid, string, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};

#[derive(Debug, DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Stock {
    Table,
    BookId,
    OnHand,
    Reserved,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Reservations {
    Table,
    Id,
    OrderId,
    State,
    /// Milliseconds since the Unix epoch: compares the same on every backend.
    ExpiresAtMs,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReservationLines {
    Table,
    ReservationId,
    BookId,
    Quantity,
}

#[derive(DeriveIden)]
enum Ledger {
    Table,
    Id,
    BookId,
    DeltaOnHand,
    DeltaReserved,
    Reason,
    ReservationId,
    Actor,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    BookId,
    Available,
    Version,
    CreatedAt,
    PublishedAt,
}

#[derive(DeriveIden)]
enum RestockFences {
    Table,
    OrderId,
    BookId,
    Quantity,
}

// async_trait's expansion only matches the trait with the elided `SchemaManager` lifetime.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Stock::Table)
                    .col(uuid(Stock::BookId).primary_key())
                    .col(big_integer(Stock::OnHand))
                    .col(big_integer(Stock::Reserved))
                    // Increases with every change: the version of the stock events.
                    .col(big_integer(Stock::Version))
                    .col(timestamp_with_time_zone(Stock::UpdatedAt))
                    // The invariants live in the database: no code path can oversell.
                    .check(Expr::col(Stock::OnHand).gte(0))
                    .check(Expr::col(Stock::Reserved).gte(0))
                    .check(Expr::col(Stock::Reserved).lte(Expr::col(Stock::OnHand)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reservations::Table)
                    .col(pk_uuid(Reservations::Id))
                    // One reservation (or tombstone) per order: the TCC fence.
                    .col(uuid(Reservations::OrderId).unique_key())
                    .col(string(Reservations::State))
                    .col(big_integer(Reservations::ExpiresAtMs))
                    .col(timestamp_with_time_zone(Reservations::CreatedAt))
                    .col(timestamp_with_time_zone(Reservations::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reservations_by_state_expiry")
                    .table(Reservations::Table)
                    .col(Reservations::State)
                    .col(Reservations::ExpiresAtMs)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReservationLines::Table)
                    .col(uuid(ReservationLines::ReservationId))
                    .col(uuid(ReservationLines::BookId))
                    .col(
                        integer(ReservationLines::Quantity)
                            .check(Expr::col(ReservationLines::Quantity).gt(0)),
                    )
                    .primary_key(
                        Index::create()
                            .col(ReservationLines::ReservationId)
                            .col(ReservationLines::BookId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReservationLines::Table, ReservationLines::ReservationId)
                            .to(Reservations::Table, Reservations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Ledger::Table)
                    .col(pk_auto(Ledger::Id))
                    .col(uuid(Ledger::BookId))
                    .col(big_integer(Ledger::DeltaOnHand))
                    .col(big_integer(Ledger::DeltaReserved))
                    .col(string(Ledger::Reason))
                    .col(uuid_null(Ledger::ReservationId))
                    .col(string(Ledger::Actor))
                    .col(timestamp_with_time_zone(Ledger::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ledger_by_book")
                    .table(Ledger::Table)
                    .col(Ledger::BookId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(pk_auto(Outbox::Id))
                    .col(uuid(Outbox::BookId))
                    .col(big_integer(Outbox::Available))
                    .col(big_integer(Outbox::Version))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::PublishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_unpublished")
                    .table(Outbox::Table)
                    .col(Outbox::PublishedAt)
                    .col(Outbox::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RestockFences::Table)
                    .col(uuid(RestockFences::OrderId))
                    .col(uuid(RestockFences::BookId))
                    .col(big_integer_null(RestockFences::Quantity))
                    .primary_key(
                        Index::create()
                            .col(RestockFences::OrderId)
                            .col(RestockFences::BookId),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RestockFences::Table.into_iden(),
            Outbox::Table.into_iden(),
            Ledger::Table.into_iden(),
            ReservationLines::Table.into_iden(),
            Reservations::Table.into_iden(),
            Stock::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
