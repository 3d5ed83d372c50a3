// `/account/orders`: the signed-in user's orders, newest first, "Load more" by cursor.
import { useEffect, useState } from 'preact/hooks';
import { client } from '../client';
import { Alert, formatDate, Loading, PageHeading, shortId, statusName } from '../components/ui';
import { describe, firstProblem, type Problem } from '../errors';
import { graphql } from '../gql';
import type { OrdersQuery } from '../gql/graphql';
import { useShop } from '../store';

const ordersQuery = graphql(`
  query Orders($first: Int, $after: String) {
    orders(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          status
          createdAt
          total {
            formatted
          }
          lines {
            quantity
          }
        }
      }
    }
  }
`);

type OrderRow = OrdersQuery['orders']['edges'][number]['node'];

export function OrdersPage() {
  const shop = useShop();
  const [rows, setRows] = useState<OrderRow[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const userId = shop.user?.id;

  const load = async (after: string | null) => {
    const result = await client.query(ordersQuery, { first: 20, after }).toPromise();
    const orders = result.data?.orders;
    if (!orders) {
      setProblem(firstProblem(result.error));
      setRows((current) => current ?? []);
      return;
    }
    setRows((current) => [...(after ? (current ?? []) : []), ...orders.edges.map((edge) => edge.node)]);
    setCursor(orders.pageInfo.endCursor ?? null);
    setMore(orders.pageInfo.hasNextPage);
  };

  useEffect(() => {
    if (userId) void load(null);
  }, [userId]);

  if (!shop.ready) return <Loading label="Loading your orders…" />;
  if (!shop.user) {
    return (
      <>
        <PageHeading title="Your orders">Your orders</PageHeading>
        <p>
          <a href="/signin?next=%2Faccount%2Forders">Sign in</a> to see your orders.
        </p>
      </>
    );
  }
  return (
    <>
      <PageHeading title="Your orders">Your orders</PageHeading>
      {problem && <Alert>{describe(problem)}</Alert>}
      {rows === null ? (
        <Loading label="Loading your orders…" />
      ) : rows.length === 0 ? (
        <p>
          You have no orders yet. <a href="/">Browse the books</a>.
        </p>
      ) : (
        <table class="table orders-table">
          <caption>Your orders, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Placed</th>
              <th scope="col">Status</th>
              <th scope="col">Items</th>
              <th scope="col">Total</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((order) => (
              <tr key={order.id}>
                <td>
                  <a href={`/orders/${order.id}`}>Order {shortId(order.id)}</a>
                </td>
                <td>
                  <time dateTime={order.createdAt}>{formatDate(order.createdAt)}</time>
                </td>
                <td>{statusName(order.status)}</td>
                <td>{order.lines.reduce((sum, line) => sum + line.quantity, 0)}</td>
                <td>{order.total.formatted}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {more && (
        <button
          type="button"
          class="button-secondary load-more"
          aria-disabled={loadingMore}
          onClick={async () => {
            if (loadingMore) return;
            setLoadingMore(true);
            await load(cursor);
            setLoadingMore(false);
          }}
        >
          {loadingMore ? 'Loading…' : 'Load more orders'}
        </button>
      )}
    </>
  );
}
