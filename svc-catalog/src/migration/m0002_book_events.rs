//! The outbox of book changes: a row written in the transaction that changes a book (or
//! imports a batch), published by the relay to the `{book-events}` stream the BFF's cache
//! follows. An event cannot be lost between commit and publish.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    pk_auto, string, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid_null,
};

#[derive(Debug, DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum BookEvents {
    Table,
    Id,
    BookId,
    Kind,
    CreatedAt,
    PublishedAt,
}

// async_trait's expansion only matches the trait with the elided `SchemaManager` lifetime.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BookEvents::Table)
                    .col(pk_auto(BookEvents::Id))
                    // Null for an import batch: it names no single book.
                    .col(uuid_null(BookEvents::BookId))
                    .col(string(BookEvents::Kind))
                    .col(timestamp_with_time_zone(BookEvents::CreatedAt))
                    .col(timestamp_with_time_zone_null(BookEvents::PublishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("book_events_unpublished")
                    .table(BookEvents::Table)
                    .col(BookEvents::PublishedAt)
                    .col(BookEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BookEvents::Table).to_owned())
            .await
    }
}
