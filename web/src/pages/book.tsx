// `/books/:id`: details, price, availability (or "availability unknown" when inventory is
// down: the rest of the page still renders), add to cart with a quantity.
import { useEffect, useState } from 'preact/hooks';
import { useRoute } from 'preact-iso/router';
import { useEagerQuery } from '../client';
import { Alert, Cover, Loading, PageHeading, Status } from '../components/ui';
import { describe, problems, type Problem } from '../errors';
import { graphql } from '../gql';
import { useShop } from '../store';

const bookQuery = graphql(`
  query Book($id: ID!) {
    book(id: $id) {
      id
      isbn
      title
      authors
      topics
      description
      publishedYear
      price {
        formatted
      }
      availability {
        inStock
        available
      }
    }
  }
`);

function availabilityText(availability: { available: number } | null | undefined, unknown: boolean): string {
  if (unknown || !availability) return 'Availability unknown: we will confirm stock at checkout.';
  if (availability.available === 0) return 'Out of stock';
  if (availability.available <= 5) return `In stock: only ${availability.available} left`;
  return `In stock (${availability.available} available)`;
}

export function BookPage() {
  const { params } = useRoute();
  const id = params.id ?? '';
  const shop = useShop();
  const result = useEagerQuery(bookQuery, { id });
  const [quantity, setQuantity] = useState('1');
  const [busy, setBusy] = useState(false);
  const [added, setAdded] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  // Another book in the same page component: start afresh.
  useEffect(() => {
    setQuantity('1');
    setAdded(null);
    setProblem(null);
  }, [id]);

  const book = result.data?.book;
  const errors = problems(result.error);
  const unknown = errors.some((error) => error.path?.[1] === 'availability' || error.code === 'UNAVAILABLE');
  const fatal = !book && errors.length > 0 ? errors[0] : null;
  const available = book?.availability?.available;
  const soldOut = available === 0;

  if (result.fetching && !book) {
    return <Loading label="Loading book…" />;
  }
  if (!book) {
    return (
      <>
        <PageHeading title="Book not found">{fatal ? 'Book unavailable' : 'Book not found'}</PageHeading>
        {fatal ? <Alert>{describe(fatal)}</Alert> : <p>We could not find this book. It may have been removed.</p>}
        <p>
          <a href="/">Back to all books</a>
        </p>
      </>
    );
  }

  const add = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    const count = Number.parseInt(quantity, 10);
    if (!Number.isFinite(count) || count < 1) {
      setProblem({ code: 'BAD_USER_INPUT', message: 'quantity: must be at least 1', field: 'quantity' });
      return;
    }
    setBusy(true);
    setAdded(null);
    setProblem(null);
    const failure = await shop.addToCart(book.id, count);
    setBusy(false);
    if (failure) setProblem(failure);
    else setAdded(`Added ${count} × “${book.title}” to your cart.`);
  };

  const quantityError = problem?.field === 'quantity' ? 'Quantity must be at least 1.' : undefined;

  return (
    <article class="book">
      <div class="book-layout">
        <Cover id={book.id} title={book.title} author={book.authors[0]} large />
        <div class="book-info">
          <PageHeading title={book.title}>{book.title}</PageHeading>
          <p class="book-authors">by {book.authors.join(', ')}</p>
          <p class="book-price">{book.price.formatted}</p>
          <p id="book-availability" class={soldOut || unknown ? 'stock stock-out' : 'stock stock-in'}>
            {availabilityText(book.availability, unknown)}
          </p>
          <form class="add-to-cart" onSubmit={add} noValidate>
            <div class="field field-narrow">
              <label for="book-quantity">Quantity</label>
              <input
                id="book-quantity"
                name="quantity"
                type="number"
                inputMode="numeric"
                min={1}
                max={available && available > 0 ? available : undefined}
                value={quantity}
                disabled={soldOut}
                aria-invalid={quantityError ? 'true' : undefined}
                aria-describedby={quantityError ? 'book-quantity-error' : undefined}
                onInput={(event) => setQuantity(event.currentTarget.value)}
              />
              {quantityError && (
                <p id="book-quantity-error" class="field-error">
                  {quantityError}
                </p>
              )}
            </div>
            <button type="submit" disabled={soldOut} aria-describedby="book-availability" aria-disabled={busy}>
              Add to cart
            </button>
          </form>
          {added && (
            <Status>
              {added} <a href="/cart">View cart</a>
            </Status>
          )}
          {problem && !quantityError && <Alert>{describe(problem)}</Alert>}
        </div>
      </div>
      <section aria-labelledby="about-heading" class="book-details">
        <h2 id="about-heading">About this book</h2>
        {book.description ? <p>{book.description}</p> : <p>No description yet.</p>}
        <dl class="facts">
          <dt>ISBN</dt>
          <dd>{book.isbn}</dd>
          {book.publishedYear != null && (
            <>
              <dt>Published</dt>
              <dd>{book.publishedYear}</dd>
            </>
          )}
          {book.topics.length > 0 && (
            <>
              <dt>Topics</dt>
              <dd>
                {book.topics.map((topic, index) => (
                  <>
                    {index > 0 && ', '}
                    <a href={`/?topic=${encodeURIComponent(topic)}`}>{topic}</a>
                  </>
                ))}
              </dd>
            </>
          )}
        </dl>
      </section>
      <p>
        <a href="/">Back to all books</a>
      </p>
    </article>
  );
}
