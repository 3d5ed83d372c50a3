// The shop's shared state: who is signed in, their cart, the cart drawer, and the books
// flagged OUT_OF_STOCK at the last checkout attempt.
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { client, hadSession, markSession, refreshSession, resetSocket } from './client';
import { firstProblem, type Problem } from './errors';
import { graphql } from './gql';
import type { CartFieldsFragment, MeFieldsFragment } from './gql/graphql';

const bootQuery = graphql(`
  query Boot {
    me {
      ...MeFields
    }
    cart {
      ...CartFields
    }
  }
`);

const cartQuery = graphql(`
  query Cart {
    cart {
      ...CartFields
    }
  }
`);

const addToCartMutation = graphql(`
  mutation AddToCart($bookId: ID!, $quantity: Int!) {
    addToCart(bookId: $bookId, quantity: $quantity) {
      ...CartFields
    }
  }
`);

const updateCartItemMutation = graphql(`
  mutation UpdateCartItem($bookId: ID!, $quantity: Int!) {
    updateCartItem(bookId: $bookId, quantity: $quantity) {
      ...CartFields
    }
  }
`);

const removeFromCartMutation = graphql(`
  mutation RemoveFromCart($bookId: ID!) {
    removeFromCart(bookId: $bookId) {
      ...CartFields
    }
  }
`);

const logoutMutation = graphql(`
  mutation Logout {
    logout
  }
`);

export type Me = MeFieldsFragment;
export type CartData = CartFieldsFragment;

export interface Shop {
  /** The first answer about the session has arrived. */
  ready: boolean;
  user: Me | null;
  cart: CartData | null;
  /** Books short at the last checkout attempt (OUT_OF_STOCK's bookIds). */
  flagged: ReadonlySet<string>;
  flag(bookIds: string[]): void;
  setUser(user: Me | null): void;
  /** After login/register: the merged cart, a socket with the new cookies. */
  signedIn(user: Me): Promise<void>;
  signOut(): Promise<void>;
  reloadCart(): Promise<void>;
  addToCart(bookId: string, quantity: number): Promise<Problem | null>;
  setQuantity(bookId: string, quantity: number): Promise<Problem | null>;
  removeFromCart(bookId: string): Promise<Problem | null>;
  cartOpen: boolean;
  /** Counts open requests, so each one reaches the <dialog> even if React state did not change. */
  cartOpenCount: number;
  openCart(opener: HTMLElement | null): void;
  closeCart(): void;
  /** Whoever opened the drawer, to take focus back. */
  cartOpener: { current: HTMLElement | null };
}

const ShopContext = createContext<Shop | null>(null);

export function useShop(): Shop {
  const shop = useContext(ShopContext);
  if (!shop) throw new Error('useShop outside ShopProvider');
  return shop;
}

export function ShopProvider({ children }: { children: ComponentChildren }) {
  const [ready, setReady] = useState(false);
  const [user, setUser] = useState<Me | null>(null);
  const [cart, setCart] = useState<CartData | null>(null);
  const [flagged, setFlagged] = useState<ReadonlySet<string>>(new Set());
  const [cartOpen, setCartOpen] = useState(false);
  const [cartOpenCount, setCartOpenCount] = useState(0);
  const cartOpener = useRef<HTMLElement | null>(null);
  // Cart writes run one after another, so quick clicks land in order.
  const queue = useRef<Promise<unknown>>(Promise.resolve());

  const boot = useCallback(async () => {
    let result = await client.query(bootQuery, {}).toPromise();
    if (!result.data?.me && hadSession() && (await refreshSession())) {
      result = await client.query(bootQuery, {}).toPromise();
    }
    const me = result.data?.me ?? null;
    if (!me && !result.error) markSession(false);
    setUser(me);
    setCart(result.data?.cart ?? null);
    setReady(true);
  }, []);

  useLayoutEffect(() => {
    void boot();
  }, [boot]);

  const reloadCart = useCallback(async () => {
    const result = await client.query(cartQuery, {}).toPromise();
    if (result.data) setCart(result.data.cart);
  }, []);

  const enqueue = useCallback(<T,>(task: () => Promise<T>): Promise<T> => {
    const next = queue.current.then(task, task);
    queue.current = next.catch(() => undefined);
    return next;
  }, []);

  const unflag = useCallback((bookId: string) => {
    setFlagged((current) => {
      if (!current.has(bookId)) return current;
      const next = new Set(current);
      next.delete(bookId);
      return next;
    });
  }, []);

  const shop = useMemo<Shop>(
    () => ({
      ready,
      user,
      cart,
      flagged,
      flag: (bookIds) => setFlagged(new Set(bookIds)),
      setUser,
      async signedIn(me) {
        markSession(true);
        resetSocket();
        setUser(me);
        await reloadCart();
      },
      async signOut() {
        await client.mutation(logoutMutation, {}).toPromise();
        markSession(false);
        resetSocket();
        setUser(null);
        setCart(null);
        setFlagged(new Set());
      },
      reloadCart,
      addToCart: (bookId, quantity) =>
        enqueue(async () => {
          const result = await client.mutation(addToCartMutation, { bookId, quantity }).toPromise();
          if (result.data) setCart(result.data.addToCart);
          return firstProblem(result.error);
        }),
      setQuantity: (bookId, quantity) =>
        enqueue(async () => {
          const result = await client.mutation(updateCartItemMutation, { bookId, quantity }).toPromise();
          if (result.data) {
            setCart(result.data.updateCartItem);
            unflag(bookId);
          }
          return firstProblem(result.error);
        }),
      removeFromCart: (bookId) =>
        enqueue(async () => {
          const result = await client.mutation(removeFromCartMutation, { bookId }).toPromise();
          if (result.data) {
            setCart(result.data.removeFromCart);
            unflag(bookId);
          }
          return firstProblem(result.error);
        }),
      cartOpen,
      cartOpenCount,
      openCart(opener) {
        cartOpener.current = opener;
        setCartOpen(true);
        setCartOpenCount((count) => count + 1);
      },
      closeCart: () => setCartOpen(false),
      cartOpener,
    }),
    [ready, user, cart, flagged, cartOpen, cartOpenCount, reloadCart, enqueue, unflag],
  );

  return <ShopContext.Provider value={shop}>{children}</ShopContext.Provider>;
}
