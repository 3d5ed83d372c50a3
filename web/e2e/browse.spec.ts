// Flow 1: a guest browses; search, filters and sort live in the URL, and a deep link (or a
// reload) shows the same list, including what "Load more" added.
import { checkA11y, expect, test, unique } from './fixtures';

test('search, filters and sort change the URL; a deep link reloads to the same list', async ({ page, adminApi }) => {
  test.setTimeout(150_000);
  const tag = unique('qz');
  const topic = `Topic ${tag}`;
  const alpha = await adminApi.createBook({
    title: `Alpha ${tag}`,
    price: 1000,
    stock: 4,
    authors: [`Ada ${tag}`],
    topics: [topic],
  });
  const beta = await adminApi.createBook({
    title: `Beta ${tag}`,
    price: 2500,
    stock: 3,
    authors: [`Bo ${tag}`],
    topics: [topic],
  });
  const gamma = await adminApi.createBook({
    title: `Gamma ${tag}`,
    price: 4000,
    stock: 0,
    authors: [`Ada ${tag}`],
    topics: ['Fiction'],
  });
  // The catalog learns stock from inventory's events: wait until the in-stock filter agrees
  // (behind the events of the books `up` seeds at start, this can take a while).
  await expect
    .poll(
      async () => {
        const response = await page.request.post('/graphql', {
          headers: { accept: 'application/json' },
          data: { query: `{ books(filter: { query: "${tag}", inStock: true }) { totalCount } }` },
        });
        return (await response.json()).data?.books?.totalCount;
      },
      { timeout: 90_000 },
    )
    .toBe(2);

  await page.goto('/');
  await expect(page).toHaveTitle('Books · Bookstore');
  await expect(page.getByRole('status')).toContainText(/Showing \d+ of \d+ books/);
  await checkA11y(page, 'catalogue');

  const search = page.getByRole('searchbox', { name: 'Search' });
  await search.fill(tag);
  await search.press('Enter');
  await expect(page).toHaveURL(new RegExp(`[?&]q=${tag}`));
  const results = page.getByRole('region', { name: 'Results' }).getByRole('listitem');
  await expect(results).toHaveCount(3);

  await page.getByLabel('Sort by').selectOption('PRICE_DESC');
  await expect(page).toHaveURL(/sort=PRICE_DESC/);
  await expect(results.first()).toContainText(gamma.title);
  await expect(results.last()).toContainText(alpha.title);

  await page.getByLabel('Sort by').selectOption('TITLE');
  await expect(page).toHaveURL(/sort=TITLE/);
  await expect(results.first()).toContainText(alpha.title);

  await page.getByRole('checkbox', { name: 'In stock only' }).check();
  await expect(page).toHaveURL(/stock=1/);
  await expect(results).toHaveCount(2);
  await expect(page.getByRole('link', { name: gamma.title })).toHaveCount(0);

  await page.getByLabel('Min price (USD)').fill('20');
  await page.getByLabel('Max price (USD)').fill('30');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/min=20/);
  await expect(page).toHaveURL(/max=30/);
  await expect(results).toHaveCount(1);
  await expect(results.first()).toContainText(beta.title);

  // A deep link: the same list after a reload, with the form showing the same choices.
  const deepLink = page.url();
  await page.reload();
  await expect(results).toHaveCount(1);
  await expect(results.first()).toContainText(beta.title);
  await expect(page.getByRole('searchbox', { name: 'Search' })).toHaveValue(tag);
  await expect(page.getByLabel('Sort by')).toHaveValue('TITLE');
  await expect(page.getByRole('checkbox', { name: 'In stock only' })).toBeChecked();
  await expect(page.getByLabel('Min price (USD)')).toHaveValue('20');

  // Topic and author, in a fresh tab from a shared link.
  await page.goto(`/?q=${tag}`);
  await page.getByLabel('Topic').selectOption(topic);
  await expect(page).toHaveURL(/topic=Topic/);
  await expect(results).toHaveCount(2);
  const author = page.getByLabel('Author');
  await author.fill(`Ada ${tag}`);
  await author.press('Enter');
  await expect(page).toHaveURL(/author=Ada/);
  await expect(results).toHaveCount(1);
  await expect(results.first()).toContainText(alpha.title);

  const second = await page.context().newPage();
  await second.goto(deepLink);
  await expect(second.getByRole('region', { name: 'Results' }).getByRole('listitem')).toHaveCount(1);
  await expect(second.getByRole('region', { name: 'Results' })).toContainText(beta.title);
  await second.close();

  // Back goes to the previous list.
  await page.goBack();
  await expect(page).not.toHaveURL(/author=/);
  await expect(results).toHaveCount(2);
});

test('"Load more" appends by cursor and the URL keeps how many are shown', async ({ page, adminApi }) => {
  const tag = unique('qm');
  for (let index = 0; index < 23; index++) {
    await adminApi.createBook({ title: `Volume ${String(index).padStart(2, '0')} ${tag}`, price: 1000 + index });
  }
  await page.goto(`/?q=${tag}&sort=TITLE`);
  const results = page.getByRole('region', { name: 'Results' }).getByRole('listitem');
  await expect(results).toHaveCount(20);
  await expect(page.getByRole('status')).toHaveText('Showing 20 of 23 books');
  await page.getByRole('button', { name: 'Load more' }).click();
  await expect(results).toHaveCount(23);
  await expect(page).toHaveURL(/n=23/);
  await expect(page.getByRole('button', { name: 'Load more' })).toHaveCount(0);
  await expect(results.last()).toContainText(`Volume 22 ${tag}`);
  await page.reload();
  await expect(results).toHaveCount(23);
  await expect(results.first()).toContainText(`Volume 00 ${tag}`);
});
