// `/orders/:id`: the confirmation, then the order's live status from the `orderUpdated`
// subscription (graphql-ws at /graphql/ws, authenticated by the session cookie).
import { useRoute } from 'preact-iso/router';
import { useQuery, useSubscription } from '@urql/preact';
import { Alert, formatDate, Loading, PageHeading, shortId, statusName } from '../components/ui';
import { describe, firstProblem } from '../errors';
import { graphql } from '../gql';
import type { OrderFieldsFragment } from '../gql/graphql';
import { useShop } from '../store';

const orderQuery = graphql(`
  query Order($id: ID!) {
    order(id: $id) {
      ...OrderFields
    }
  }
`);

const orderUpdatedSubscription = graphql(`
  subscription OrderUpdated($id: ID!) {
    orderUpdated(id: $id) {
      ...OrderFields
    }
  }
`);

const TERMINAL = new Set(['DELIVERED', 'CANCELLED', 'FAILED']);

function OrderView({ order, placed, live }: { order: OrderFieldsFragment; placed: boolean; live: string }) {
  const address = order.shippingAddress;
  const payment = order.payment;
  return (
    <>
      <PageHeading title={`Order ${shortId(order.id)}`}>Order {shortId(order.id)}</PageHeading>
      {placed && order.status !== 'FAILED' && (
        <div class="alert alert-success">
          <p>
            <strong>Thank you, your order has been placed.</strong> We will keep this page up to date as it moves along.
          </p>
        </div>
      )}
      <p class="order-status" role="status" aria-live="polite">
        Status: <strong class={`badge badge-${order.status.toLowerCase()}`}>{statusName(order.status)}</strong>
      </p>
      <p class="live-note">{live}</p>
      <div class="order-grid">
        <section aria-labelledby="history-heading">
          <h2 id="history-heading">History</h2>
          <ol class="timeline" aria-label="Order history">
            {order.history.map((event, index) => (
              <li key={`${event.status}-${event.at}-${index}`}>
                <strong>{statusName(event.status)}</strong> <time dateTime={event.at}>{formatDate(event.at)}</time>
                {event.note && <span class="timeline-note"> · {event.note}</span>}
              </li>
            ))}
          </ol>
        </section>
        <section aria-labelledby="items-heading">
          <h2 id="items-heading">Items</h2>
          <table class="table">
            <caption class="visually-hidden">Books in this order</caption>
            <thead>
              <tr>
                <th scope="col">Book</th>
                <th scope="col">Quantity</th>
                <th scope="col">Price</th>
              </tr>
            </thead>
            <tbody>
              {order.lines.map((line) => (
                <tr key={line.bookId}>
                  <td>
                    <a href={`/books/${line.bookId}`}>{line.title}</a>
                  </td>
                  <td>{line.quantity}</td>
                  <td>{line.unitPrice.formatted}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row" colSpan={2}>
                  Total
                </th>
                <td>{order.total.formatted}</td>
              </tr>
            </tfoot>
          </table>
        </section>
        <section aria-labelledby="delivery-heading">
          <h2 id="delivery-heading">Delivery and payment</h2>
          <dl class="facts">
            <dt>Placed</dt>
            <dd>
              <time dateTime={order.createdAt}>{formatDate(order.createdAt)}</time>
            </dd>
            <dt>Ship to</dt>
            <dd>
              {[address.line1, address.line2, `${address.postalCode} ${address.city}`, address.country]
                .filter(Boolean)
                .join(', ')}
            </dd>
            <dt>Payment</dt>
            <dd>
              {payment.method === 'CARD'
                ? `Card${payment.brand ? ` (${payment.brand})` : ''}${payment.last4 ? ` ending in ${payment.last4}` : ''}`
                : 'PayPal'}
              , {payment.status}
            </dd>
            {order.failureReason && (
              <>
                <dt>Reason</dt>
                <dd>{order.failureReason}</dd>
              </>
            )}
          </dl>
        </section>
      </div>
      <p>
        <a href="/account/orders">All your orders</a> · <a href="/">Continue shopping</a>
      </p>
    </>
  );
}

export function OrderPage() {
  const { params, query } = useRoute();
  const id = params.id ?? '';
  const shop = useShop();
  const signedIn = Boolean(shop.user);
  const [result] = useQuery({ query: orderQuery, variables: { id }, pause: !signedIn });
  const known = result.data?.order;
  const [live] = useSubscription({
    query: orderUpdatedSubscription,
    variables: { id },
    pause: !known || TERMINAL.has(known.status),
  });

  if (!shop.ready || (signedIn && result.fetching && !known)) return <Loading label="Loading order…" />;
  if (!signedIn) {
    return (
      <>
        <PageHeading title="Order">Order</PageHeading>
        <p>
          <a href={`/signin?next=${encodeURIComponent(`/orders/${id}`)}`}>Sign in</a> to see this order.
        </p>
      </>
    );
  }
  const order = live.data?.orderUpdated ?? known;
  if (!order) {
    const problem = firstProblem(result.error);
    return (
      <>
        <PageHeading title="Order not found">Order not found</PageHeading>
        {problem ? <Alert>{describe(problem)}</Alert> : <p>There is no order with this number in your account.</p>}
      </>
    );
  }
  const liveNote = TERMINAL.has(order.status)
    ? 'This order is complete.'
    : live.error
      ? 'Live updates are unavailable right now; reload the page for the latest status.'
      : 'This page updates by itself when the status changes.';
  return <OrderView order={order} placed={query.placed === '1'} live={liveNote} />;
}
