//! The relay reads unpublished book events through an index of those rows alone
//! (`platform::store::outbox::PendingRowsIndex` says why).

use platform::store::outbox::PendingRowsIndex;

pub(crate) const MIGRATION: PendingRowsIndex = PendingRowsIndex {
    name: "m0005_book_events_pending_index",
    table: "book_events",
    old_index: "book_events_unpublished",
};
