// Flow 7: order history newest first, the account page, and sign out ending the session.
import { addToCart, checkA11y, expect, placeOrderApi, shortId, signUp, test, unique } from './fixtures';

test('order history lists newest first; sign out clears the session cookies', async ({ page, adminApi }) => {
  const book = await adminApi.createBook({ title: `History ${unique()}`, stock: 10 });
  await signUp(page, 'History Shopper');
  await addToCart(page, book.id, 1);
  const first = await placeOrderApi(page);
  await addToCart(page, book.id, 2);
  const second = await placeOrderApi(page);

  await page.goto('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders' }).click();
  await expect(page).toHaveTitle('Your orders · Bookstore');
  const table = page.getByRole('table', { name: 'Your orders, newest first' });
  const rows = table.getByRole('row');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(1)).toContainText(`Order ${shortId(second)}`);
  await expect(rows.nth(1).getByRole('cell').nth(3)).toHaveText('2');
  await expect(rows.nth(2)).toContainText(`Order ${shortId(first)}`);
  await checkA11y(page, 'orders');

  await rows.nth(2).getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`/orders/${first}$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Order ${shortId(first)}`);

  // The account: name and addresses.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
  await expect(page).toHaveTitle('Your account · Bookstore');
  await page.getByLabel('Name').fill('Renamed Shopper');
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByRole('status')).toHaveText('Your name has been saved.');
  const add = page.getByRole('form', { name: 'Add an address' });
  await add.getByLabel('Address line 1').fill('742 Evergreen Terrace');
  await add.getByLabel('City').fill('Springfield');
  await add.getByLabel('Postal code').fill('49007');
  // The server's BAD_USER_INPUT (`extensions.field` = country) marks the field.
  await add.getByLabel('Country').fill('U1');
  await add.getByRole('button', { name: 'Add address' }).click();
  await expect(add.getByLabel('Country')).toHaveAttribute('aria-invalid', 'true');
  await expect(add.getByLabel('Country')).toHaveAccessibleDescription(
    /^Country must be an ISO 3166-1 alpha-2 code such as DE\./,
  );
  await add.getByLabel('Country').fill('us');
  await add.getByRole('button', { name: 'Add address' }).click();
  await expect(page.getByRole('button', { name: /^Remove address 742 Evergreen Terrace/ })).toBeVisible();
  await checkA11y(page, 'account');
  // A reload reads the address back from the server (`me.addresses`).
  await page.reload();
  await expect(page.getByRole('button', { name: /^Remove address 742 Evergreen Terrace/ })).toBeVisible();

  // The saved address is offered at checkout.
  await page.getByRole('button', { name: /^Cart/ }).click();
  await page.getByRole('dialog', { name: 'Your cart' }).getByText('Your cart is empty.').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Books' }).click();
  await page.getByRole('searchbox', { name: 'Search' }).fill(book.title);
  await page.getByRole('searchbox', { name: 'Search' }).press('Enter');
  await page.getByRole('link', { name: book.title }).click();
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByRole('status').getByRole('link', { name: 'View cart' }).click();
  await page.getByRole('main').getByRole('link', { name: 'Check out' }).click();
  await expect(page.getByRole('radio', { name: /742 Evergreen Terrace/ })).toBeChecked();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
  await page.getByRole('button', { name: /^Remove address 742 Evergreen Terrace/ }).click();
  await expect(page.getByText('No saved addresses yet.')).toBeVisible();

  const before = (await page.context().cookies()).map((cookie) => cookie.name);
  expect(before).toEqual(expect.arrayContaining(['access_token', 'refresh_token']));
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in' })).toBeVisible();
  await expect(page).toHaveURL(/\/$/);
  await expect
    .poll(async () =>
      (await page.context().cookies()).map((cookie) => cookie.name).filter((name) => name !== 'cart_session'),
    )
    .toEqual([]);
  await page.goto('/account/orders');
  await expect(page.getByRole('link', { name: 'Sign in' }).last()).toBeVisible();
  await expect(page.getByText('to see your orders')).toBeVisible();
});

test('an expired access cookie is renewed from the refresh cookie (refreshToken(""))', async ({ page }) => {
  await page.goto('/register');
  const form = page.getByRole('form', { name: 'Create an account' });
  await form.getByLabel('Name').fill('Refresh Shopper');
  await form.getByLabel('Email').fill(`refresh-${Date.now()}-${unique()}@example.com`);
  await form.getByLabel('Password').fill('correct-Horse-battery-9');
  await form.getByRole('button', { name: 'Create account' }).click();
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(page).toHaveURL(/\/$/);
  await expect(nav.getByRole('button', { name: 'Sign out' })).toBeVisible();

  // The browser drops the access cookie when it expires (Max-Age = the token's life).
  await page.context().clearCookies({ name: 'access_token' });
  await nav.getByRole('link', { name: 'Orders' }).click();
  await expect(page.getByText('You have no orders yet.')).toBeVisible();
  await expect
    .poll(async () => (await page.context().cookies()).some((cookie) => cookie.name === 'access_token'))
    .toBe(true);

  await page.context().clearCookies({ name: 'access_token' });
  await page.reload();
  await expect(nav.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await expect(page.getByText('You have no orders yet.')).toBeVisible();
});
