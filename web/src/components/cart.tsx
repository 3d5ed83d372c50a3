// The cart's lines (drawer, /cart and the checkout summary), the header's cart button and
// the drawer: a modal <dialog> (focus stays inside, Escape closes, focus returns to the opener).
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { describe, type Problem } from '../errors';
import { useShop, type CartData } from '../store';
import { Alert } from './ui';

function stockNote(available: number | undefined): string {
  if (available === undefined) return 'Not enough stock for this quantity.';
  if (available === 0) return 'Not enough stock: this book is sold out. Remove it to continue.';
  return `Not enough stock: only ${available} left. Lower the quantity to continue.`;
}

export function CartLines({ cart, prefix }: { cart: CartData; prefix: string }) {
  const shop = useShop();
  const [problem, setProblem] = useState<Problem | null>(null);
  const container = useRef<HTMLDivElement>(null);
  const run = async (task: Promise<Problem | null>) => {
    setProblem(await task);
    // A removed line takes its focused button with it: keep focus in the cart.
    requestAnimationFrame(() => {
      if (document.activeElement === document.body || !document.activeElement?.isConnected) container.current?.focus();
    });
  };
  return (
    <div ref={container} tabIndex={-1} class="cart-lines-wrap" aria-label="Cart contents" role="group">
      {problem && <Alert>{describe(problem)}</Alert>}
      <ul class="cart-lines" aria-label="Books in your cart">
        {cart.items.map((item) => {
          const { book } = item;
          const short = shop.flagged.has(book.id);
          const noteId = `${prefix}-note-${book.id}`;
          return (
            <li key={book.id} class={`cart-line${short ? ' cart-line-short' : ''}`} data-book-id={book.id}>
              <div class="cart-line-main">
                <a href={`/books/${book.id}`} class="cart-line-title">
                  {book.title}
                </a>
                <span class="cart-line-price">{book.price.formatted} each</span>
                {short && (
                  <p id={noteId} class="cart-line-note">
                    {stockNote(book.availability?.available)}
                  </p>
                )}
              </div>
              <div class="cart-line-controls">
                <button
                  type="button"
                  class="button-icon"
                  aria-label={`Decrease quantity of ${book.title}`}
                  onClick={() => run(shop.setQuantity(book.id, item.quantity - 1))}
                >
                  −
                </button>
                <input
                  type="number"
                  class="quantity-input"
                  min={0}
                  inputMode="numeric"
                  value={item.quantity}
                  aria-label={`Quantity of ${book.title}`}
                  aria-invalid={short ? 'true' : undefined}
                  aria-describedby={short ? noteId : undefined}
                  onChange={(event) => {
                    const value = Number.parseInt(event.currentTarget.value, 10);
                    if (Number.isFinite(value) && value >= 0 && value !== item.quantity) {
                      void run(shop.setQuantity(book.id, value));
                    } else {
                      event.currentTarget.value = String(item.quantity);
                    }
                  }}
                />
                <button
                  type="button"
                  class="button-icon"
                  aria-label={`Increase quantity of ${book.title}`}
                  onClick={() => run(shop.setQuantity(book.id, item.quantity + 1))}
                >
                  +
                </button>
                <span class="cart-line-total">{item.lineTotal.formatted}</span>
                <button
                  type="button"
                  class="button-link"
                  aria-label={`Remove ${book.title}`}
                  onClick={() => run(shop.removeFromCart(book.id))}
                >
                  Remove
                </button>
              </div>
            </li>
          );
        })}
      </ul>
      <p class="cart-subtotal">
        Subtotal ({cart.totalQuantity} {cart.totalQuantity === 1 ? 'item' : 'items'}):{' '}
        <strong>{cart.subtotal.formatted}</strong>
      </p>
    </div>
  );
}

export function CartButton() {
  const shop = useShop();
  const count = shop.cart?.totalQuantity ?? 0;
  return (
    <button
      type="button"
      class="cart-button"
      aria-haspopup="dialog"
      aria-expanded={shop.cartOpen}
      aria-controls="cart-drawer"
      onClick={(event) => shop.openCart(event.currentTarget)}
    >
      Cart <span class="cart-count">({count})</span>
      <span class="visually-hidden"> {count === 1 ? 'item' : 'items'}</span>
    </button>
  );
}

export function CartDrawer() {
  const shop = useShop();
  const { path } = useLocation();
  const dialog = useRef<HTMLDialogElement>(null);
  const { cartOpen, cart } = shop;

  // Every open request reaches the <dialog>, also one that comes before the close event of
  // the last Escape (that event is queued as a task, so state may still say "open").
  useLayoutEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (cartOpen && !element.open) element.showModal();
    if (!cartOpen && element.open) element.close();
  }, [cartOpen, shop.cartOpenCount]);

  // Following a link inside the drawer closes it.
  const openedAt = useRef(path);
  const leaving = useRef(false);
  useEffect(() => {
    if (cartOpen && openedAt.current !== path) {
      leaving.current = true;
      shop.closeCart();
    }
    openedAt.current = path;
  }, [path]);

  const onClose = () => {
    // A close event that arrives after the drawer was opened again is stale.
    if (dialog.current?.open) return;
    shop.closeCart();
    const opener = shop.cartOpener.current;
    shop.cartOpener.current = null;
    // After following a link the new page's heading has focus; otherwise focus goes back.
    if (leaving.current) leaving.current = false;
    else if (opener?.isConnected) opener.focus();
    else document.getElementById('main')?.focus();
  };

  // Tab wraps around inside the drawer (showModal already makes the page behind inert).
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== 'Tab' || !dialog.current) return;
    const focusable = Array.from(
      dialog.current.querySelectorAll<HTMLElement>('a[href], button:not([disabled]), input:not([disabled])'),
    );
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  const empty = !cart || cart.items.length === 0;
  return (
    <dialog
      id="cart-drawer"
      ref={dialog}
      class="drawer"
      aria-labelledby="cart-drawer-title"
      onClose={onClose}
      onKeyDown={onKeyDown}
      onClick={(event) => {
        // A click on the backdrop (the dialog box itself, outside its content) closes it.
        if (event.target === dialog.current) shop.closeCart();
      }}
    >
      <div class="drawer-body">
        <div class="drawer-header">
          <h2 id="cart-drawer-title">Your cart</h2>
          <button type="button" class="button-secondary" onClick={() => shop.closeCart()}>
            Close cart
          </button>
        </div>
        {cartOpen &&
          (empty ? (
            <p>Your cart is empty.</p>
          ) : (
            <>
              <CartLines cart={cart} prefix="drawer" />
              <div class="drawer-actions">
                <a href="/cart" class="button button-secondary">
                  View cart
                </a>
                <a href="/checkout" class="button">
                  Check out
                </a>
              </div>
            </>
          ))}
      </div>
    </dialog>
  );
}
