// Flows 3, 4 and 6: a card checkout to the confirmation with live status over the
// WebSocket; declines and invalid input; a double-clicked "Place order".
import { addToCart, checkA11y, expect, fillAddress, fillCard, shopperOrders, signUp, test, unique } from './fixtures';

test('checkout with 4242 reaches the confirmation; SHIPPED shows up live over the WebSocket', async ({
  page,
  adminApi,
}) => {
  const book = await adminApi.createBook({ title: `Live ${unique()}`, stock: 5, price: 1999 });
  await signUp(page);
  await addToCart(page, book.id, 1);

  const frames: string[] = [];
  page.on('websocket', (socket) => {
    if (socket.url().endsWith('/graphql/ws')) socket.on('framereceived', (frame) => frames.push(String(frame.payload)));
  });

  await page.goto('/checkout');
  await expect(page).toHaveTitle('Checkout · Bookstore');
  const form = page.getByRole('form', { name: 'Checkout' });
  await fillAddress(form);
  await fillCard(form, '4242 4242 4242 4242');
  await form.getByRole('button', { name: 'Place order' }).click();

  await expect(page).toHaveURL(/\/orders\/[^/?]+\?placed=1$/);
  await expect(page.getByText('Thank you, your order has been placed.')).toBeVisible();
  const status = page.getByRole('status').filter({ hasText: 'Status:' });
  await expect(status).toHaveText('Status: Confirmed');
  await expect(page.getByRole('table')).toContainText(book.title);
  await expect(page.getByRole('button', { name: /^Cart/ })).toHaveAccessibleName('Cart (0) items');
  await checkA11y(page, 'confirmation');

  // The subscription is live (its first message is the order as it is now).
  await expect.poll(() => frames.some((frame) => frame.includes('"type":"next"'))).toBe(true);
  const orderId = new URL(page.url()).pathname.split('/').pop()!;
  await page.evaluate(() => {
    (window as unknown as { notReloaded: boolean }).notReloaded = true;
  });
  await adminApi.setOrderStatus(orderId, 'SHIPPED');

  await expect(status).toHaveText('Status: Shipped');
  await expect(page.getByRole('list', { name: 'Order history' }).getByRole('listitem').last()).toContainText('Shipped');
  expect(frames.some((frame) => frame.includes('SHIPPED'))).toBe(true);
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
});

test('declines show an alert and keep the cart; a bad Luhn number marks the card field; a good card succeeds', async ({
  page,
  adminApi,
}) => {
  const book = await adminApi.createBook({ title: `Decline ${unique()}`, stock: 5, price: 2500 });
  await signUp(page);
  await addToCart(page, book.id, 2);
  await page.goto('/checkout');
  const form = page.getByRole('form', { name: 'Checkout' });
  const summary = page.getByRole('complementary', { name: 'Order summary' });
  const placeOrder = form.getByRole('button', { name: 'Place order' });
  const alert = form.getByRole('alert');
  await fillAddress(form);

  await fillCard(form, '4000 0000 0000 0002');
  await placeOrder.click();
  await expect(alert).toContainText('Payment declined: the card was declined');
  await expect(alert).toContainText('Your cart is unchanged');
  await expect(summary.getByRole('listitem')).toHaveCount(1);
  await expect(summary.getByRole('spinbutton', { name: `Quantity of ${book.title}` })).toHaveValue('2');
  await checkA11y(page, 'checkout-declined');

  await fillCard(form, '4000 0000 0000 9995');
  await placeOrder.click();
  await expect(alert).toContainText('insufficient funds');
  await expect(summary.getByRole('listitem')).toHaveCount(1);

  await form.getByRole('radio', { name: 'PayPal' }).check();
  await form.getByLabel('PayPal email').fill('declined@example.com');
  await placeOrder.click();
  await expect(alert).toContainText('PayPal declined the payment');
  await expect(summary.getByRole('listitem')).toHaveCount(1);
  await expect(page.getByRole('button', { name: /^Cart/ })).toHaveAccessibleName('Cart (2) items');

  await form.getByRole('radio', { name: 'Card' }).check();
  await fillCard(form, '4242 4242 4242 4241');
  await placeOrder.click();
  const cardNumber = form.getByLabel('Card number');
  await expect(cardNumber).toHaveAttribute('aria-invalid', 'true');
  await expect(cardNumber).toHaveAccessibleDescription('Card number is not a valid card number.');
  await expect(cardNumber).toBeFocused();
  await expect(alert).toHaveCount(0);
  await checkA11y(page, 'checkout-invalid-card');

  await fillCard(form, '4242 4242 4242 4242');
  await placeOrder.click();
  await expect(page).toHaveURL(/\/orders\/[^/?]+\?placed=1$/);
  await expect(page.getByRole('status').filter({ hasText: 'Status:' })).toHaveText('Status: Confirmed');
  const orders = await shopperOrders(page);
  expect(orders.filter((order) => order.status === 'CONFIRMED')).toHaveLength(1);
});

test('a double-clicked "Place order" makes exactly one order', async ({ page, adminApi }) => {
  const book = await adminApi.createBook({ title: `Double ${unique()}`, stock: 5 });
  await signUp(page);
  await addToCart(page, book.id, 1);
  let requests = 0;
  page.on('request', (request) => {
    if (request.url().endsWith('/graphql') && (request.postData() ?? '').includes('"operationName":"PlaceOrder"'))
      requests++;
  });
  await page.goto('/checkout');
  const form = page.getByRole('form', { name: 'Checkout' });
  await fillAddress(form);
  await fillCard(form, '4242424242424242');
  await form.getByRole('button', { name: 'Place order' }).dblclick();
  await expect(page).toHaveURL(/\/orders\/[^/?]+\?placed=1$/);
  await expect(page.getByRole('status').filter({ hasText: 'Status:' })).toHaveText('Status: Confirmed');
  const orders = await shopperOrders(page);
  expect(orders).toHaveLength(1);
  expect(requests).toBe(1);
});
