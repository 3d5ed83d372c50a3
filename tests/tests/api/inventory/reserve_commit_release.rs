//! The two-phase protocol's safety cases (the ones Seata's fence table exists for).

use bookstore_tests::with_token;
use platform::ServiceName;
use proto::inventory::v1 as pb;
use tonic::Code;

use super::{
    admin, assert_invariants, client, inventory_mesh, new_id, order_token, reserve, set_stock, stock,
};

#[tokio::test]
async fn reserve_commit_and_release_move_stock_and_are_idempotent() {
    let mesh = inventory_mesh().await;
    let (book, other) = (new_id(), new_id());
    set_stock(&mesh, &book, 10).await;
    set_stock(&mesh, &other, 5).await;

    let order = new_id();
    let held = reserve(&mesh, &order, &[(&book, 3), (&other, 1), (&book, 1)])
        .await
        .unwrap();
    assert_eq!(held.state, pb::ReservationState::Held as i32);
    assert_eq!(held.lines.len(), 2, "duplicate lines merged");
    let again = reserve(&mesh, &order, &[(&book, 4)]).await.unwrap();
    assert_eq!(
        again.reservation_id, held.reservation_id,
        "a retry returns the same reservation"
    );
    let level = stock(&mesh, &book).await;
    assert_eq!((level.on_hand, level.reserved, level.available), (10, 4, 6));

    let commit = || pb::CommitRequest {
        reservation_id: held.reservation_id.clone(),
    };
    for _ in 0..2 {
        let committed = client(&mesh)
            .commit(with_token(commit(), &order_token(&mesh)))
            .await
            .unwrap();
        assert_eq!(
            committed.into_inner().reservation.unwrap().state,
            pb::ReservationState::Committed as i32
        );
    }
    let level = stock(&mesh, &book).await;
    assert_eq!((level.on_hand, level.reserved), (6, 0), "committed once");

    let release = pb::ReleaseRequest {
        target: Some(pb::release_request::Target::ReservationId(
            held.reservation_id.clone(),
        )),
        reason: "too late".to_owned(),
    };
    let status = client(&mesh)
        .release(with_token(release, &order_token(&mesh)))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::FailedPrecondition,
        "a committed reservation is not released"
    );

    let second = reserve(&mesh, &new_id(), &[(&other, 2)]).await.unwrap();
    for _ in 0..2 {
        let release = pb::ReleaseRequest {
            target: Some(pb::release_request::Target::ReservationId(
                second.reservation_id.clone(),
            )),
            reason: "payment_declined".to_owned(),
        };
        let released = client(&mesh)
            .release(with_token(release, &order_token(&mesh)))
            .await
            .unwrap();
        assert_eq!(
            released.into_inner().reservation.unwrap().state,
            pb::ReservationState::Released as i32
        );
    }
    let level = stock(&mesh, &other).await;
    assert_eq!(
        (level.on_hand, level.reserved),
        (4, 0),
        "one sold by the first order, the second released once"
    );
    let status = client(&mesh)
        .commit(with_token(
            pb::CommitRequest {
                reservation_id: second.reservation_id.clone(),
            },
            &order_token(&mesh),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::FailedPrecondition,
        "commit after release changes nothing"
    );
    assert_eq!(stock(&mesh, &other).await.on_hand, 4);

    assert_invariants(mesh.database_url(ServiceName::Inventory).unwrap()).await;
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_release_before_the_reserve_leaves_a_tombstone_that_refuses_the_late_reserve() {
    let mesh = inventory_mesh().await;
    let book = new_id();
    set_stock(&mesh, &book, 5).await;
    let order = new_id();
    let release = pb::ReleaseRequest {
        target: Some(pb::release_request::Target::OrderId(order.clone())),
        reason: "saga aborted".to_owned(),
    };
    let tombstone = client(&mesh)
        .release(with_token(release, &order_token(&mesh)))
        .await
        .unwrap();
    assert_eq!(
        tombstone.into_inner().reservation.unwrap().state,
        pb::ReservationState::Released as i32
    );

    let status = reserve(&mesh, &order, &[(&book, 1)]).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(
        stock(&mesh, &book).await.reserved,
        0,
        "the late reserve held nothing"
    );
    assert_invariants(mesh.database_url(ServiceName::Inventory).unwrap()).await;
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_short_line_refuses_the_whole_reservation_and_names_every_short_book() {
    let mesh = inventory_mesh().await;
    let (plenty, scarce, unknown) = (new_id(), new_id(), new_id());
    set_stock(&mesh, &plenty, 10).await;
    set_stock(&mesh, &scarce, 1).await;

    let status = reserve(&mesh, &new_id(), &[(&plenty, 2), (&scarce, 2), (&unknown, 1)])
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(
        platform::ErrorCode::from_status(&status),
        platform::ErrorCode::OutOfStock
    );
    let mut short = platform::error_code::short_lines(&status);
    short.sort_by(|left, right| left.book_id.cmp(&right.book_id));
    let mut expected = vec![(scarce.clone(), 2, 1), (unknown.clone(), 1, 0)];
    expected.sort();
    let named: Vec<(String, i64, i64)> = short
        .into_iter()
        .map(|line| (line.book_id, line.requested, line.available))
        .collect();
    assert_eq!(named, expected);
    assert_eq!(stock(&mesh, &plenty).await.reserved, 0, "nothing was reserved");
    assert_invariants(mesh.database_url(ServiceName::Inventory).unwrap()).await;
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn admins_set_and_restock_but_never_below_what_is_reserved() {
    let mesh = inventory_mesh().await;
    let book = new_id();
    assert_eq!(
        stock(&mesh, &book).await.on_hand,
        0,
        "an unknown book reads as zero"
    );
    set_stock(&mesh, &book, 5).await;
    reserve(&mesh, &new_id(), &[(&book, 3)]).await.unwrap();

    let request = pb::SetStockRequest {
        book_id: book.clone(),
        on_hand: 2,
        reason: String::new(),
    };
    let status = client(&mesh)
        .set_stock(with_token(request, &admin(&mesh)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);

    let cancelled_order = new_id();
    for _ in 0..2 {
        let request = pb::RestockRequest {
            book_id: book.clone(),
            quantity: 2,
            reason: "order_cancelled".to_owned(),
            order_id: Some(cancelled_order.clone()),
        };
        client(&mesh)
            .restock(with_token(request, &order_token(&mesh)))
            .await
            .unwrap();
    }
    assert_eq!(stock(&mesh, &book).await.on_hand, 7, "restocked once per order");

    let (_, customer) = mesh.keys().user_token(platform::auth::Role::Customer);
    let request = pb::RestockRequest {
        book_id: book.clone(),
        quantity: 100,
        reason: String::new(),
        order_id: None,
    };
    assert_eq!(
        client(&mesh)
            .restock(with_token(request, &customer))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let status = client(&mesh)
        .reserve(with_token(
            super::reserve_request(&new_id(), &[(&book, 1)], 60),
            &customer,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "a user token cannot reserve directly"
    );
    assert_invariants(mesh.database_url(ServiceName::Inventory).unwrap()).await;
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_reservation_in_an_unknown_stored_state_is_an_internal_error_not_a_release() {
    let mesh = inventory_mesh().await;
    let book = new_id();
    set_stock(&mesh, &book, 5).await;
    let held = reserve(&mesh, &new_id(), &[(&book, 2)]).await.unwrap();
    let db = platform::store::connect_database(mesh.database_url(ServiceName::Inventory).unwrap())
        .await
        .unwrap();
    let id: uuid::Uuid = held.reservation_id.parse().unwrap();
    platform::store::execute(
        &db,
        "test",
        "UPDATE reservations SET state = 'CANCELLED' WHERE id = ?",
        [id.into()],
    )
    .await
    .unwrap();

    // Read as "released", the commit would be refused as a precondition and the two copies
    // would look free to a caller; the row is broken, and the caller hears so.
    let request = pb::CommitRequest {
        reservation_id: held.reservation_id.clone(),
    };
    let status = client(&mesh)
        .commit(with_token(request, &order_token(&mesh)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert!(
        !status.message().contains("CANCELLED"),
        "the cause stays in the log: {status:?}"
    );
    assert_eq!(stock(&mesh, &book).await.reserved, 2, "nothing moved");
    mesh.shutdown().await.unwrap();
}
