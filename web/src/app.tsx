import { ErrorBoundary, default as lazy } from 'preact-iso/lazy';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso/router';
import { Provider } from '@urql/preact';
import { client } from './client';
import { CartButton, CartDrawer } from './components/cart';
import { headingShouldTakeFocus } from './components/ui';
import { BookPage } from './pages/book';
import { CartPage } from './pages/cart';
import { Catalogue } from './pages/catalogue';
import { NotFound } from './pages/not-found';
import { ShopProvider, useShop } from './store';

const Checkout = lazy(() => import('./pages/checkout').then((module) => module.Checkout));
const OrderPage = lazy(() => import('./pages/order').then((module) => module.OrderPage));
const OrdersPage = lazy(() => import('./pages/orders').then((module) => module.OrdersPage));
const AccountPage = lazy(() => import('./pages/account').then((module) => module.AccountPage));
const SignInPage = lazy(() => import('./pages/auth').then((module) => module.SignInPage));
const RegisterPage = lazy(() => import('./pages/auth').then((module) => module.RegisterPage));

function NavLink({ href, children }: { href: string; children: string }) {
  const { path } = useLocation();
  return (
    <a href={href} aria-current={path === href ? 'page' : undefined}>
      {children}
    </a>
  );
}

function Header() {
  const shop = useShop();
  const { route } = useLocation();
  return (
    <header class="site-header">
      <div class="site-header-inner">
        <a href="/" class="brand">
          Bookstore
        </a>
        <nav aria-label="Main">
          <ul class="nav-list">
            <li>
              <NavLink href="/">Books</NavLink>
            </li>
            {shop.user ? (
              <>
                <li>
                  <NavLink href="/account/orders">Orders</NavLink>
                </li>
                <li>
                  <NavLink href="/account">Account</NavLink>
                </li>
                <li>
                  <button
                    type="button"
                    class="button-link"
                    onClick={async () => {
                      await shop.signOut();
                      route('/');
                    }}
                  >
                    Sign out
                  </button>
                </li>
              </>
            ) : (
              <>
                <li>
                  <NavLink href="/signin">Sign in</NavLink>
                </li>
                <li>
                  <NavLink href="/register">Register</NavLink>
                </li>
              </>
            )}
          </ul>
        </nav>
        <CartButton />
      </div>
    </header>
  );
}

export function App() {
  return (
    <Provider value={client}>
      <LocationProvider>
        <ShopProvider>
          <a class="skip-link" href="#main">
            Skip to main content
          </a>
          <Header />
          <main id="main" tabIndex={-1}>
            <ErrorBoundary>
              <Router onRouteChange={headingShouldTakeFocus}>
                <Route path="/" component={Catalogue} />
                <Route path="/books/:id" component={BookPage} />
                <Route path="/cart" component={CartPage} />
                <Route path="/checkout" component={Checkout} />
                <Route path="/signin" component={SignInPage} />
                <Route path="/register" component={RegisterPage} />
                <Route path="/orders/:id" component={OrderPage} />
                <Route path="/account/orders" component={OrdersPage} />
                <Route path="/account" component={AccountPage} />
                <Route default component={NotFound} />
              </Router>
            </ErrorBoundary>
          </main>
          <footer class="site-footer">
            <p>Bookstore demo shop</p>
          </footer>
          <CartDrawer />
        </ShopProvider>
      </LocationProvider>
    </Provider>
  );
}
