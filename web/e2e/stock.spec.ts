// Flow 5: out of stock. Stock 0 disables "Add to cart"; a cart line the shop cannot fill
// comes back OUT_OF_STOCK and is flagged; an unknown availability still renders the page.
import { addToCart, checkA11y, expect, fillAddress, fillCard, signUp, test, unique } from './fixtures';

test('stock 0 disables "Add to cart"', async ({ page, adminApi }) => {
  const book = await adminApi.createBook({ title: `Sold Out ${unique()}`, stock: 0 });
  await page.goto(`/books/${book.id}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(book.title);
  await expect(page.getByText('Out of stock')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add to cart' })).toBeDisabled();
});

test('stock 1 with 2 in the cart gives OUT_OF_STOCK and flags the line; fixing it checks out', async ({
  page,
  adminApi,
}) => {
  const tag = unique();
  const short = await adminApi.createBook({ title: `Short ${tag}`, stock: 5 });
  const plenty = await adminApi.createBook({ title: `Plenty ${tag}`, stock: 5 });
  await signUp(page);
  await page.goto(`/books/${short.id}`);
  await page.getByLabel('Quantity').fill('2');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await expect(page.getByRole('status')).toContainText('Added 2');
  await addToCart(page, plenty.id, 1);
  await adminApi.setStock(short.id, 1);

  await page.goto('/checkout');
  const form = page.getByRole('form', { name: 'Checkout' });
  await fillAddress(form);
  await fillCard(form, '4242 4242 4242 4242');
  await form.getByRole('button', { name: 'Place order' }).click();
  await expect(form.getByRole('alert')).toContainText('no longer in stock');

  const summary = page.getByRole('complementary', { name: 'Order summary' });
  const shortLine = summary.getByRole('listitem').filter({ hasText: short.title });
  const plentyLine = summary.getByRole('listitem').filter({ hasText: plenty.title });
  await expect(shortLine).toContainText('Not enough stock: only 1 left');
  const quantity = shortLine.getByRole('spinbutton', { name: `Quantity of ${short.title}` });
  await expect(quantity).toHaveAttribute('aria-invalid', 'true');
  await expect(quantity).toHaveAccessibleDescription('Not enough stock: only 1 left. Lower the quantity to continue.');
  await expect(plentyLine).not.toContainText('Not enough stock');
  await checkA11y(page, 'checkout-out-of-stock');

  // The cart drawer flags the same line.
  await page.getByRole('button', { name: /^Cart/ }).click();
  const drawer = page.getByRole('dialog', { name: 'Your cart' });
  await expect(drawer.getByRole('listitem').filter({ hasText: short.title })).toContainText('Not enough stock');
  await page.keyboard.press('Escape');
  await expect(drawer).toBeHidden();

  await shortLine.getByRole('button', { name: `Decrease quantity of ${short.title}` }).click();
  await expect(quantity).toHaveValue('1');
  await expect(shortLine).not.toContainText('Not enough stock');
  await form.getByRole('button', { name: 'Place order' }).click();
  await expect(page).toHaveURL(/\/orders\/[^/?]+\?placed=1$/);
});

test('availability unknown (inventory down): the book page still renders', async ({ page, adminApi }) => {
  const book = await adminApi.createBook({ title: `Unknown ${unique()}`, stock: 3 });
  // What the BFF answers when inventory is down: availability null with an UNAVAILABLE error.
  await page.route('**/graphql', async (route) => {
    if (!(route.request().postData() ?? '').includes('"operationName":"Book"')) return route.continue();
    const response = await route.fetch();
    const json = await response.json();
    json.data.book.availability = null;
    json.errors = [
      {
        message: 'a service is unavailable, retry shortly',
        path: ['book', 'availability'],
        extensions: { code: 'UNAVAILABLE' },
      },
    ];
    await route.fulfill({ response, json });
  });
  await page.goto(`/books/${book.id}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(book.title);
  await expect(page.getByText(/Availability unknown/)).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add to cart' })).toBeEnabled();
});
