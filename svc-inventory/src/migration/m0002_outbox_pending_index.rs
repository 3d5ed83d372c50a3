//! The relay reads unpublished stock events through an index of those rows alone
//! (`platform::store::outbox::PendingRowsIndex` says why).

use platform::store::outbox::PendingRowsIndex;

pub(crate) const MIGRATION: PendingRowsIndex = PendingRowsIndex {
    name: "m0002_outbox_pending_index",
    table: "outbox",
    old_index: "outbox_unpublished",
};
