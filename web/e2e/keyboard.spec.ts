// Flow 8: the whole checkout with the keyboard alone (no clicks, no fills): add to cart,
// the drawer (focus trapped, Escape closes, focus returns), register, address, card, order.
import { expect, newEmail, PASSWORD, tabTo, test, unique } from './fixtures';

test('the whole checkout done with the keyboard alone', async ({ page, adminApi }) => {
  const book = await adminApi.createBook({ title: `Keys ${unique()}`, stock: 5, price: 1234 });
  await page.goto(`/books/${book.id}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(book.title);

  // The skip link is the first stop and moves focus to the main landmark.
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to main content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('main')).toBeFocused();

  await tabTo(page, page.getByLabel('Quantity'));
  await page.keyboard.press('Control+A');
  await page.keyboard.type('2');
  await tabTo(page, page.getByRole('button', { name: 'Add to cart' }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status')).toContainText('Added 2');

  // The drawer: a modal dialog; Escape closes it and focus goes back to the cart button.
  const cartButton = page.getByRole('button', { name: /^Cart/ });
  await tabTo(page, cartButton, { shift: true });
  await page.keyboard.press('Enter');
  const drawer = page.getByRole('dialog', { name: 'Your cart' });
  await expect(drawer).toBeVisible();
  await expect(drawer.getByRole('button', { name: 'Close cart' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(drawer).toBeHidden();
  await expect(cartButton).toBeFocused();

  // Focus stays inside: Tab from the last control wraps to the first, Shift+Tab back.
  await page.keyboard.press('Enter');
  await expect(drawer).toBeVisible();
  const checkOut = drawer.getByRole('link', { name: 'Check out' });
  await tabTo(page, checkOut, { max: 15 });
  await page.keyboard.press('Tab');
  await expect(drawer.getByRole('button', { name: 'Close cart' })).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(checkOut).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/checkout$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Checkout' })).toBeFocused();

  // Register (the guest cart comes along).
  const register = page.getByRole('form', { name: 'Create an account' });
  await tabTo(page, register.getByLabel('Name'));
  await page.keyboard.type('Keyboard Shopper');
  await tabTo(page, register.getByLabel('Email'));
  await page.keyboard.type(newEmail());
  await tabTo(page, register.getByLabel('Password'));
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');

  const form = page.getByRole('form', { name: 'Checkout' });
  await expect(form).toBeVisible();
  await expect(page.getByRole('heading', { level: 1, name: 'Checkout' })).toBeFocused();
  const fields: [string, string][] = [
    ['Address line 1', '10 Downing Street'],
    ['City', 'London'],
    ['Postal code', 'SW1A 2AA'],
    ['Country', 'GB'],
    ['Card number', '4242 4242 4242 4242'],
    ['Expiry month (MM)', '12'],
    ['Expiry year (YYYY)', '2030'],
    ['Security code (CVC)', '123'],
  ];
  for (const [label, value] of fields) {
    await tabTo(page, form.getByLabel(label));
    await page.keyboard.type(value);
  }
  await tabTo(page, form.getByRole('button', { name: 'Place order' }));
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/orders\/[^/?]+\?placed=1$/);
  await expect(page.getByRole('status').filter({ hasText: 'Status:' })).toHaveText('Status: Confirmed');
  await expect(page.getByRole('heading', { level: 1 })).toBeFocused();
});
