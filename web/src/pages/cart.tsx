import { CartLines } from '../components/cart';
import { Loading, PageHeading } from '../components/ui';
import { useShop } from '../store';

export function CartPage() {
  const shop = useShop();
  if (!shop.ready) return <Loading label="Loading your cart…" />;
  const cart = shop.cart;
  return (
    <>
      <PageHeading title="Your cart">Your cart</PageHeading>
      {!cart || cart.items.length === 0 ? (
        <p>
          Your cart is empty. <a href="/">Browse the books</a>.
        </p>
      ) : (
        <section aria-label="Cart" class="cart-page">
          <CartLines cart={cart} prefix="page" />
          <div class="cart-actions">
            <a href="/" class="button button-secondary">
              Continue shopping
            </a>
            <a href="/checkout" class="button">
              Check out
            </a>
          </div>
        </section>
      )}
    </>
  );
}
