//! Orders with their saga position, lines, history, the record of every payment call, and
//! the sandbox processor's own ledger of charges. Times are epoch milliseconds, so they
//! compare the same on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, integer, pk_auto, pk_uuid, string, string_null, text, uuid, uuid_null,
};

#[derive(Debug, DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    UserId,
    IdempotencyKey,
    Status,
    /// Where the checkout saga (or a compensation) stands; `done` when nothing is left to do.
    Step,
    TotalMinor,
    Currency,
    /// JSON copy of the shipping address.
    ShippingAddress,
    PaymentMethod,
    PaymentBrand,
    PaymentLast4,
    PaymentStatus,
    /// The provider's handle of the authorization, once known.
    AuthorizationId,
    ReservationId,
    FailureReason,
    /// Comma-separated, when failure_reason is OUT_OF_STOCK.
    ShortBookIds,
    /// Increases with every change: what watchers compare.
    Version,
    /// Whoever drives the saga holds it until then; recovery takes orders past it.
    LeaseUntilMs,
    CreatedAtMs,
    UpdatedAtMs,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    OrderId,
    Position,
    BookId,
    Title,
    UnitPriceMinor,
    Quantity,
}

#[derive(DeriveIden)]
enum OrderEvents {
    Table,
    Id,
    OrderId,
    Status,
    Note,
    AtMs,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    OrderId,
    Operation,
    IdempotencyKey,
    AmountMinor,
    Currency,
    Outcome,
    Detail,
    AtMs,
}

#[derive(DeriveIden)]
enum SandboxCharges {
    Table,
    AuthorizationId,
    AuthorizeKey,
    AmountMinor,
    Currency,
    State,
    DeclineReason,
    UpdatedAtMs,
}

// async_trait's expansion only matches the trait with the elided `SchemaManager` lifetime.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(pk_uuid(Orders::Id))
                    .col(uuid(Orders::UserId))
                    .col(string(Orders::IdempotencyKey))
                    .col(string(Orders::Status))
                    .col(string(Orders::Step))
                    .col(big_integer(Orders::TotalMinor).check(Expr::col(Orders::TotalMinor).gte(0)))
                    .col(string(Orders::Currency))
                    .col(text(Orders::ShippingAddress))
                    .col(string(Orders::PaymentMethod))
                    .col(string(Orders::PaymentBrand))
                    .col(string(Orders::PaymentLast4))
                    .col(string(Orders::PaymentStatus))
                    .col(string_null(Orders::AuthorizationId))
                    .col(uuid_null(Orders::ReservationId))
                    .col(string(Orders::FailureReason))
                    .col(text(Orders::ShortBookIds))
                    .col(big_integer(Orders::Version))
                    .col(big_integer(Orders::LeaseUntilMs))
                    .col(big_integer(Orders::CreatedAtMs))
                    .col(big_integer(Orders::UpdatedAtMs))
                    .to_owned(),
            )
            .await?;
        // The idempotency of PlaceOrder: a unique index, not a lookup race.
        manager
            .create_index(
                Index::create()
                    .name("orders_by_user_key")
                    .table(Orders::Table)
                    .col(Orders::UserId)
                    .col(Orders::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("orders_by_user_newest")
                    .table(Orders::Table)
                    .col(Orders::UserId)
                    .col(Orders::CreatedAtMs)
                    .col(Orders::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("orders_to_drive")
                    .table(Orders::Table)
                    .col(Orders::Step)
                    .col(Orders::LeaseUntilMs)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderLines::Table)
                    .col(uuid(OrderLines::OrderId))
                    .col(integer(OrderLines::Position))
                    .col(uuid(OrderLines::BookId))
                    .col(string(OrderLines::Title))
                    .col(big_integer(OrderLines::UnitPriceMinor))
                    .col(integer(OrderLines::Quantity).check(Expr::col(OrderLines::Quantity).gt(0)))
                    .primary_key(Index::create().col(OrderLines::OrderId).col(OrderLines::Position))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderLines::Table, OrderLines::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderEvents::Table)
                    .col(pk_auto(OrderEvents::Id))
                    .col(uuid(OrderEvents::OrderId))
                    .col(string(OrderEvents::Status))
                    .col(string(OrderEvents::Note))
                    .col(big_integer(OrderEvents::AtMs))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderEvents::Table, OrderEvents::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("order_events_by_order")
                    .table(OrderEvents::Table)
                    .col(OrderEvents::OrderId)
                    .col(OrderEvents::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(pk_auto(Payments::Id))
                    .col(uuid(Payments::OrderId))
                    .col(string(Payments::Operation))
                    .col(string(Payments::IdempotencyKey))
                    .col(big_integer(Payments::AmountMinor))
                    .col(string(Payments::Currency))
                    .col(string(Payments::Outcome))
                    .col(string(Payments::Detail))
                    .col(big_integer(Payments::AtMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("payments_by_order")
                    .table(Payments::Table)
                    .col(Payments::OrderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SandboxCharges::Table)
                    .col(string(SandboxCharges::AuthorizationId).primary_key())
                    .col(string(SandboxCharges::AuthorizeKey).unique_key())
                    .col(big_integer(SandboxCharges::AmountMinor))
                    .col(string(SandboxCharges::Currency))
                    .col(string(SandboxCharges::State))
                    .col(string(SandboxCharges::DeclineReason))
                    .col(big_integer(SandboxCharges::UpdatedAtMs))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SandboxCharges::Table.into_iden(),
            Payments::Table.into_iden(),
            OrderEvents::Table.into_iden(),
            OrderLines::Table.into_iden(),
            Orders::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
