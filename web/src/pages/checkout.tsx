// `/checkout`: sign in or register first (the guest cart merges into the account), then a
// saved or new address, card or PayPal, and "Place order" with one idempotency key per
// attempt: made when the form is shown and after each failure, so a double click or a
// retried request makes one order.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { client } from '../client';
import { CartLines } from '../components/cart';
import { fieldErrorsFor, text, useFocusFirstInvalid, type FieldErrors } from '../components/forms';
import { Field, Loading, newKey, PageHeading } from '../components/ui';
import { describe, firstProblem } from '../errors';
import { graphql } from '../gql';
import type { PaymentInput, PlaceOrderInput } from '../gql/graphql';
import { useShop, type CartData, type Me } from '../store';
import { RegisterForm, SignInForm } from './auth';

const placeOrderMutation = graphql(`
  mutation PlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      id
      status
      failureReason
    }
  }
`);

const LABELS: Record<string, string> = {
  'shippingAddress.line1': 'Address line 1',
  'shippingAddress.line2': 'Address line 2',
  'shippingAddress.city': 'City',
  'shippingAddress.postalCode': 'Postal code',
  'shippingAddress.country': 'Country',
  'payment.card.number': 'Card number',
  'payment.card.holder': 'Name on card',
  'payment.card.expMonth': 'Expiry month',
  'payment.card.expYear': 'Expiry year',
  'payment.card.cvc': 'Security code',
  'payment.paypal.email': 'PayPal email',
};

function focusHeading() {
  document.querySelector<HTMLElement>('main h1')?.focus();
}

function Summary({ cart }: { cart: CartData }) {
  return (
    <aside class="checkout-summary" aria-labelledby="summary-heading">
      <h2 id="summary-heading">Order summary</h2>
      <CartLines cart={cart} prefix="summary" />
    </aside>
  );
}

function formatAddress(address: Me['addresses'][number]): string {
  return [address.line1, address.line2, `${address.postalCode} ${address.city}`, address.country]
    .filter(Boolean)
    .join(', ');
}

function CheckoutForm({ user, cart }: { user: Me; cart: CartData }) {
  const shop = useShop();
  const { route } = useLocation();
  const form = useRef<HTMLFormElement>(null);
  const alertRef = useRef<HTMLDivElement>(null);
  const inFlight = useRef(false);
  const [key, setKey] = useState(newKey);
  const saved = user.addresses;
  const [addressChoice, setAddressChoice] = useState(
    () => (saved.find((address) => address.isDefault) ?? saved[0])?.id ?? 'new',
  );
  const [method, setMethod] = useState<'card' | 'paypal'>('card');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [alert, setAlert] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useFocusFirstInvalid(form, errors);
  useEffect(() => {
    if (alert) alertRef.current?.focus();
  }, [alert]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (inFlight.current) return;
    const data = new FormData(form.current!);
    const local: FieldErrors = {};
    const need = (name: string, message: string) => {
      const value = text(data, name);
      if (!value) local[name] = message;
      return value;
    };
    const input: PlaceOrderInput = { idempotencyKey: key, payment: {} };
    if (addressChoice === 'new') {
      const line1 = need('shippingAddress.line1', 'Enter the street address.');
      const city = need('shippingAddress.city', 'Enter the city.');
      const postalCode = need('shippingAddress.postalCode', 'Enter the postal code.');
      const country = need('shippingAddress.country', 'Enter the two-letter country code, such as US or DE.');
      const line2 = text(data, 'shippingAddress.line2');
      input.shippingAddress = { line1, line2: line2 || undefined, city, postalCode, country: country.toUpperCase() };
    } else {
      input.addressId = addressChoice;
    }
    let payment: PaymentInput;
    if (method === 'card') {
      const number = need('payment.card.number', 'Enter the card number.').replace(/[\s-]/g, '');
      const month = need('payment.card.expMonth', 'Enter the expiry month (1 to 12).');
      const year = need('payment.card.expYear', 'Enter the expiry year.');
      const cvc = need('payment.card.cvc', 'Enter the security code.');
      const expMonth = Number.parseInt(month, 10);
      let expYear = Number.parseInt(year, 10);
      if (month && !(expMonth >= 1 && expMonth <= 12))
        local['payment.card.expMonth'] = 'Enter the expiry month (1 to 12).';
      if (year && !Number.isFinite(expYear)) local['payment.card.expYear'] = 'Enter the expiry year, such as 2030.';
      if (expYear < 100) expYear += 2000;
      const holder = text(data, 'payment.card.holder');
      payment = { card: { number, expMonth, expYear, cvc, holder: holder || undefined } };
    } else {
      payment = { paypal: { email: need('payment.paypal.email', 'Enter your PayPal email address.') } };
    }
    input.payment = payment;
    setAlert(null);
    setErrors(local);
    if (Object.keys(local).length) return;

    inFlight.current = true;
    setBusy(true);
    const result = await client.mutation(placeOrderMutation, { input }).toPromise();
    inFlight.current = false;
    setBusy(false);
    const order = result.data?.placeOrder;
    if (order && order.status !== 'FAILED') {
      shop.flag([]);
      route(`/orders/${order.id}?placed=1`);
      void shop.reloadCart();
      return;
    }
    // Any failure: the next attempt is a new one.
    setKey(newKey());
    if (order) {
      setAlert(`The order could not be completed (${order.failureReason ?? 'failed'}). Your cart is unchanged.`);
      return;
    }
    const problem = firstProblem(result.error);
    if (!problem) return;
    if (problem.code === 'OUT_OF_STOCK') {
      shop.flag(problem.bookIds ?? []);
      await shop.reloadCart();
    }
    if (problem.code === 'UNAUTHENTICATED') shop.setUser(null);
    const fields = fieldErrorsFor(problem, LABELS);
    if (fields && form.current?.elements.namedItem(Object.keys(fields)[0]!)) setErrors(fields);
    else setAlert(describe(problem));
  };

  return (
    <form ref={form} class="checkout-form" onSubmit={submit} noValidate aria-label="Checkout">
      {alert && (
        <div role="alert" class="alert alert-error" tabIndex={-1} ref={alertRef}>
          {alert}
        </div>
      )}
      <fieldset>
        <legend>Shipping address</legend>
        {saved.map((address) => (
          <div class="choice" key={address.id}>
            <input
              type="radio"
              id={`address-${address.id}`}
              name="addressChoice"
              value={address.id}
              checked={addressChoice === address.id}
              onChange={() => setAddressChoice(address.id)}
            />
            <label for={`address-${address.id}`}>{formatAddress(address)}</label>
          </div>
        ))}
        {saved.length > 0 && (
          <div class="choice">
            <input
              type="radio"
              id="address-new"
              name="addressChoice"
              value="new"
              checked={addressChoice === 'new'}
              onChange={() => setAddressChoice('new')}
            />
            <label for="address-new">A new address</label>
          </div>
        )}
        {addressChoice === 'new' && (
          <div class="address-fields">
            <Field
              id="ship-line1"
              name="shippingAddress.line1"
              label="Address line 1"
              autocomplete="address-line1"
              error={errors['shippingAddress.line1']}
            />
            <Field
              id="ship-line2"
              name="shippingAddress.line2"
              label="Address line 2 (optional)"
              autocomplete="address-line2"
              error={errors['shippingAddress.line2']}
            />
            <Field
              id="ship-city"
              name="shippingAddress.city"
              label="City"
              autocomplete="address-level2"
              error={errors['shippingAddress.city']}
            />
            <Field
              id="ship-postal"
              name="shippingAddress.postalCode"
              label="Postal code"
              autocomplete="postal-code"
              error={errors['shippingAddress.postalCode']}
            />
            <Field
              id="ship-country"
              name="shippingAddress.country"
              label="Country"
              autocomplete="country"
              maxLength={2}
              hint="Two-letter code, such as US or DE."
              error={errors['shippingAddress.country']}
            />
          </div>
        )}
      </fieldset>
      <fieldset>
        <legend>Payment</legend>
        <div class="choices-inline">
          <div class="choice">
            <input
              type="radio"
              id="pay-card"
              name="method"
              value="card"
              checked={method === 'card'}
              onChange={() => setMethod('card')}
            />
            <label for="pay-card">Card</label>
          </div>
          <div class="choice">
            <input
              type="radio"
              id="pay-paypal"
              name="method"
              value="paypal"
              checked={method === 'paypal'}
              onChange={() => setMethod('paypal')}
            />
            <label for="pay-paypal">PayPal</label>
          </div>
        </div>
        {method === 'card' ? (
          <div class="card-fields">
            <Field
              id="card-number"
              name="payment.card.number"
              label="Card number"
              autocomplete="cc-number"
              inputMode="numeric"
              error={errors['payment.card.number']}
              class="field-wide"
            />
            <Field
              id="card-holder"
              name="payment.card.holder"
              label="Name on card (optional)"
              autocomplete="cc-name"
              error={errors['payment.card.holder']}
              class="field-wide"
            />
            <Field
              id="card-month"
              name="payment.card.expMonth"
              label="Expiry month (MM)"
              autocomplete="cc-exp-month"
              inputMode="numeric"
              maxLength={2}
              error={errors['payment.card.expMonth']}
              class="field-narrow"
            />
            <Field
              id="card-year"
              name="payment.card.expYear"
              label="Expiry year (YYYY)"
              autocomplete="cc-exp-year"
              inputMode="numeric"
              maxLength={4}
              error={errors['payment.card.expYear']}
              class="field-narrow"
            />
            <Field
              id="card-cvc"
              name="payment.card.cvc"
              label="Security code (CVC)"
              autocomplete="cc-csc"
              inputMode="numeric"
              maxLength={4}
              error={errors['payment.card.cvc']}
              class="field-narrow"
            />
          </div>
        ) : (
          <Field
            id="paypal-email"
            name="payment.paypal.email"
            label="PayPal email"
            type="email"
            autocomplete="email"
            error={errors['payment.paypal.email']}
          />
        )}
      </fieldset>
      <p class="checkout-total">
        Total: <strong>{cart.subtotal.formatted}</strong>
      </p>
      <button type="submit" class="button-primary-large" disabled={busy}>
        {busy ? 'Placing order…' : 'Place order'}
      </button>
    </form>
  );
}

export function Checkout() {
  const shop = useShop();
  if (!shop.ready) return <Loading label="Loading checkout…" />;
  const cart = shop.cart;
  const empty = !cart || cart.items.length === 0;
  return (
    <>
      <PageHeading title="Checkout">Checkout</PageHeading>
      {!shop.user ? (
        <div class="checkout-grid">
          <div>
            <p class="lead">Sign in or create an account to check out. Your cart comes with you.</p>
            <div class="auth-columns">
              <section aria-labelledby="checkout-signin-heading">
                <h2 id="checkout-signin-heading">Sign in</h2>
                <SignInForm idPrefix="checkout-signin" onDone={focusHeading} />
              </section>
              <section aria-labelledby="checkout-register-heading">
                <h2 id="checkout-register-heading">New customer</h2>
                <RegisterForm idPrefix="checkout-register" onDone={focusHeading} />
              </section>
            </div>
          </div>
          {!empty && <Summary cart={cart} />}
        </div>
      ) : empty ? (
        <p>
          Your cart is empty. <a href="/">Browse the books</a>.
        </p>
      ) : (
        <div class="checkout-grid">
          <CheckoutForm user={shop.user} cart={cart} />
          <Summary cart={cart} />
        </div>
      )}
    </>
  );
}
