// Flow 2: the guest cart survives registration at checkout, and a guest cart adds up with
// the cart an account already has when its owner signs in.
import { checkA11y, expect, gql, newEmail, PASSWORD, test, unique } from './fixtures';

test('a guest adds two books, registers at checkout, and the cart survives the merge', async ({ page, adminApi }) => {
  const tag = unique();
  const one = await adminApi.createBook({ title: `Merge One ${tag}`, stock: 10, price: 1200 });
  const two = await adminApi.createBook({ title: `Merge Two ${tag}`, stock: 10, price: 800 });

  await page.goto(`/books/${one.id}`);
  await expect(page).toHaveTitle(`${one.title} · Bookstore`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(one.title);
  await checkA11y(page, 'book');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await expect(page.getByRole('status')).toContainText(`Added 1 × “${one.title}”`);

  await page.goto(`/books/${two.id}`);
  await page.getByLabel('Quantity').fill('2');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  const cartButton = page.getByRole('button', { name: /^Cart/ });
  await expect(cartButton).toHaveAccessibleName('Cart (3) items');

  await cartButton.click();
  const drawer = page.getByRole('dialog', { name: 'Your cart' });
  await expect(drawer).toBeVisible();
  await expect(drawer.getByRole('listitem')).toHaveCount(2);
  await expect(drawer.getByRole('button', { name: 'Close cart' })).toBeFocused();
  await checkA11y(page, 'cart-drawer');
  await drawer.getByRole('link', { name: 'Check out' }).click();
  await expect(page).toHaveURL(/\/checkout$/);
  await expect(drawer).toBeHidden();

  const register = page.getByRole('form', { name: 'Create an account' });
  await expect(page.getByRole('complementary', { name: 'Order summary' }).getByRole('listitem')).toHaveCount(2);
  await checkA11y(page, 'checkout-sign-in');
  await register.getByLabel('Name').fill('Merge Shopper');
  await register.getByLabel('Email').fill(newEmail());
  await register.getByLabel('Password').fill(PASSWORD);
  await register.getByRole('button', { name: 'Create account' }).click();

  await expect(page.getByRole('form', { name: 'Checkout' })).toBeVisible();
  const summary = page.getByRole('complementary', { name: 'Order summary' });
  await expect(summary.getByRole('listitem')).toHaveCount(2);
  await expect(summary.getByRole('spinbutton', { name: `Quantity of ${one.title}` })).toHaveValue('1');
  await expect(summary.getByRole('spinbutton', { name: `Quantity of ${two.title}` })).toHaveValue('2');
  await expect(cartButton).toHaveAccessibleName('Cart (3) items');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Sign out' })).toBeVisible();
});

test('signing in from a guest cart adds up with the cart the account already has', async ({
  page,
  adminApi,
  playwright,
}) => {
  const tag = unique();
  const one = await adminApi.createBook({ title: `Own One ${tag}`, stock: 10 });
  const two = await adminApi.createBook({ title: `Own Two ${tag}`, stock: 10 });
  const three = await adminApi.createBook({ title: `Own Three ${tag}`, stock: 10 });

  // The account, with one copy of `two` and one of `three`, made elsewhere (its own API context).
  const email = newEmail();
  const elsewhere = await playwright.request.newContext();
  const registered = await gql(elsewhere, `mutation($i: RegisterInput!) { register(input: $i) { accessToken } }`, {
    i: { email, password: PASSWORD, name: 'Returning Shopper' },
  });
  const bearer = { authorization: `Bearer ${registered.data.register.accessToken}` };
  for (const id of [two.id, three.id]) {
    const added = await gql(
      elsewhere,
      `mutation($id: ID!) { addToCart(bookId: $id, quantity: 1) { totalQuantity } }`,
      { id },
      bearer,
    );
    expect(added.errors).toBeUndefined();
  }
  await elsewhere.dispose();

  // As a guest in the browser: one copy of `one`, two of `two`.
  await page.goto(`/books/${one.id}`);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await expect(page.getByRole('status')).toContainText('Added 1');
  await page.goto(`/books/${two.id}`);
  await page.getByLabel('Quantity').fill('2');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await expect(page.getByRole('button', { name: /^Cart/ })).toHaveAccessibleName('Cart (3) items');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in' }).click();
  await expect(page).toHaveTitle('Sign in · Bookstore');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeFocused();
  const form = page.getByRole('form', { name: 'Sign in' });
  await checkA11y(page, 'sign-in');
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);

  await expect(page.getByRole('button', { name: /^Cart/ })).toHaveAccessibleName('Cart (5) items');
  await page.goto('/cart');
  const lines = page.getByRole('list', { name: 'Books in your cart' });
  await expect(lines.getByRole('listitem')).toHaveCount(3);
  await expect(lines.getByRole('spinbutton', { name: `Quantity of ${one.title}` })).toHaveValue('1');
  await expect(lines.getByRole('spinbutton', { name: `Quantity of ${two.title}` })).toHaveValue('3');
  await expect(lines.getByRole('spinbutton', { name: `Quantity of ${three.title}` })).toHaveValue('1');
  await checkA11y(page, 'cart-page');

  // Change a quantity and remove a line on /cart.
  await lines.getByRole('button', { name: `Increase quantity of ${one.title}` }).click();
  await expect(lines.getByRole('spinbutton', { name: `Quantity of ${one.title}` })).toHaveValue('2');
  await lines.getByRole('spinbutton', { name: `Quantity of ${two.title}` }).fill('1');
  await lines.getByRole('spinbutton', { name: `Quantity of ${two.title}` }).press('Enter');
  await expect(lines.getByRole('spinbutton', { name: `Quantity of ${two.title}` })).toHaveValue('1');
  await lines.getByRole('button', { name: `Remove ${three.title}` }).click();
  await expect(lines.getByRole('listitem')).toHaveCount(2);
  await expect(page.getByRole('button', { name: /^Cart/ })).toHaveAccessibleName('Cart (3) items');
});
