// `/`: search, filters and sort, all kept in the URL query (reload or a shared link shows
// the same list, including how many pages were loaded), and "Load more" by cursor.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { client } from '../client';
import { Alert, Cover, Loading, PageHeading } from '../components/ui';
import { describe, firstProblem, type Problem } from '../errors';
import { graphql } from '../gql';
import type { BookCardFragment, BookFilter, BookSort, TopicsQuery } from '../gql/graphql';

const booksQuery = graphql(`
  query Books($filter: BookFilter, $sort: BookSort, $first: Int, $after: String) {
    books(filter: $filter, sort: $sort, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...BookCard
        }
      }
    }
  }
`);

const topicsQuery = graphql(`
  query Topics {
    topics {
      name
      bookCount
    }
  }
`);

const SORTS: { value: BookSort; label: string }[] = [
  { value: 'RELEVANCE', label: 'Relevance' },
  { value: 'TITLE', label: 'Title (A to Z)' },
  { value: 'PRICE_ASC', label: 'Price: low to high' },
  { value: 'PRICE_DESC', label: 'Price: high to low' },
  { value: 'NEWEST', label: 'Newest' },
];

const PAGE = 20;
/** The BFF returns at most 100 books a page. */
const MAX_FIRST = 100;

interface Params {
  q: string;
  topic: string;
  author: string;
  min: string;
  max: string;
  stock: boolean;
  sort: BookSort;
  n: number;
}

function readParams(query: Record<string, string>): Params {
  const sort = SORTS.some((option) => option.value === query.sort) ? (query.sort as BookSort) : 'RELEVANCE';
  const n = Number.parseInt(query.n ?? '', 10);
  return {
    q: query.q ?? '',
    topic: query.topic ?? '',
    author: query.author ?? '',
    min: query.min ?? '',
    max: query.max ?? '',
    stock: query.stock === '1',
    sort,
    n: Number.isFinite(n) && n > PAGE ? Math.min(n, MAX_FIRST) : PAGE,
  };
}

function toUrl(params: Params): string {
  const search = new URLSearchParams();
  if (params.q) search.set('q', params.q);
  if (params.topic) search.set('topic', params.topic);
  if (params.author) search.set('author', params.author);
  if (params.min) search.set('min', params.min);
  if (params.max) search.set('max', params.max);
  if (params.stock) search.set('stock', '1');
  if (params.sort !== 'RELEVANCE') search.set('sort', params.sort);
  if (params.n > PAGE) search.set('n', String(params.n));
  const text = search.toString();
  return text ? `/?${text}` : '/';
}

/** "12.50" in the shop's currency to minor units (1250); undefined when empty or not a number. */
function toMinor(value: string): number | undefined {
  const trimmed = value.trim().replace(',', '.');
  if (!trimmed) return undefined;
  const number = Number(trimmed);
  return Number.isFinite(number) && number >= 0 ? Math.round(number * 100) : undefined;
}

function filterOf(params: Params): BookFilter {
  return {
    query: params.q || undefined,
    topic: params.topic || undefined,
    author: params.author || undefined,
    minPrice: toMinor(params.min),
    maxPrice: toMinor(params.max),
    inStock: params.stock || undefined,
  };
}

interface ListState {
  key: string;
  books: BookCardFragment[];
  total: number;
  endCursor: string | null;
  hasNextPage: boolean;
  loading: boolean;
  loadingMore: boolean;
  problem: Problem | null;
}

export function BookCardView({ book }: { book: BookCardFragment }) {
  const availability = book.availability;
  return (
    <article class="card">
      <a href={`/books/${book.id}`} class="card-link">
        <Cover id={book.id} title={book.title} author={book.authors[0]} />
        <h3 class="card-title">{book.title}</h3>
      </a>
      <p class="card-authors">{book.authors.join(', ')}</p>
      <p class="card-meta">
        <span class="price">{book.price.formatted}</span>
        <span class={availability?.inStock ? 'stock stock-in' : 'stock stock-out'}>
          {availability == null ? 'Availability unknown' : availability.inStock ? 'In stock' : 'Out of stock'}
        </span>
      </p>
    </article>
  );
}

export function Catalogue() {
  const { query, route } = useLocation();
  const params = readParams(query);
  const key = JSON.stringify({ ...filterOf(params), sort: params.sort });

  const [list, setList] = useState<ListState>({
    key: '',
    books: [],
    total: 0,
    endCursor: null,
    hasNextPage: false,
    loading: true,
    loadingMore: false,
    problem: null,
  });
  const [topics, setTopics] = useState<TopicsQuery['topics']>([]);
  const current = useRef(key);
  current.current = key;

  // Text inputs keep their own state while typing; the URL is the truth once committed.
  const [text, setText] = useState({ q: params.q, author: params.author, min: params.min, max: params.max });
  // (one field at a time: committing one must not undo what is being typed in another)
  useEffect(() => setText((state) => ({ ...state, q: params.q })), [params.q]);
  useEffect(() => setText((state) => ({ ...state, author: params.author })), [params.author]);
  useEffect(() => setText((state) => ({ ...state, min: params.min })), [params.min]);
  useEffect(() => setText((state) => ({ ...state, max: params.max })), [params.max]);

  // The books leave before the first paint (a layout effect: they are the LCP); the topics
  // only once the first books are in, so they do not compete with them.
  const topicsAsked = useRef(false);
  useEffect(() => {
    if (list.loading || topicsAsked.current) return;
    topicsAsked.current = true;
    void client
      .query(topicsQuery, {})
      .toPromise()
      .then((result) => setTopics(result.data?.topics ?? []));
  }, [list.loading]);

  useLayoutEffect(() => {
    const first = params.n;
    setList((state) => ({ ...state, key, books: [], hasNextPage: false, loading: true, problem: null }));
    void client
      .query(booksQuery, { filter: filterOf(params), sort: params.sort, first })
      .toPromise()
      .then((result) => {
        if (current.current !== key) return;
        const books = result.data?.books;
        setList({
          key,
          books: books?.edges.map((edge) => edge.node) ?? [],
          total: books?.totalCount ?? 0,
          endCursor: books?.pageInfo.endCursor ?? null,
          hasNextPage: books?.pageInfo.hasNextPage ?? false,
          loading: false,
          loadingMore: false,
          problem: books ? null : firstProblem(result.error),
        });
      });
  }, [key]);

  const apply = (change: Partial<Params>) => {
    const next = toUrl({ ...params, ...text, ...change, n: PAGE });
    // Enter in a text field fires both change and submit: one history entry.
    if (next !== location.pathname + location.search) route(next);
  };

  const loadMore = async () => {
    if (!list.endCursor || list.loadingMore) return;
    setList((state) => ({ ...state, loadingMore: true }));
    const result = await client
      .query(booksQuery, { filter: filterOf(params), sort: params.sort, first: PAGE, after: list.endCursor })
      .toPromise();
    if (current.current !== key) return;
    const books = result.data?.books;
    if (!books) {
      setList((state) => ({ ...state, loadingMore: false, problem: firstProblem(result.error) }));
      return;
    }
    const shown = list.books.length + books.edges.length;
    setList((state) => ({
      ...state,
      books: [...state.books, ...books.edges.map((edge) => edge.node)],
      endCursor: books.pageInfo.endCursor ?? null,
      hasNextPage: books.pageInfo.hasNextPage,
      total: books.totalCount,
      loadingMore: false,
    }));
    // Remember how many are shown without adding a history entry or reloading the list.
    route(toUrl({ ...params, n: Math.min(shown, MAX_FIRST) }), true);
  };

  const currency = list.books[0]?.price.currency ?? 'USD';
  const searching = Boolean(params.q || params.topic || params.author || params.min || params.max || params.stock);

  return (
    <>
      <PageHeading title={params.q ? `Search: ${params.q}` : 'Books'}>Books</PageHeading>
      <form
        role="search"
        aria-label="Books"
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          apply({});
        }}
      >
        <div class="field field-wide">
          <label for="search-q">Search</label>
          <input
            id="search-q"
            name="q"
            type="search"
            value={text.q}
            placeholder="Title, author, ISBN…"
            onInput={(event) => {
              const value = event.currentTarget.value;
              setText((state) => ({ ...state, q: value }));
            }}
          />
        </div>
        <div class="field">
          <label for="search-topic">Topic</label>
          <select
            id="search-topic"
            name="topic"
            value={params.topic}
            onChange={(event) => apply({ topic: event.currentTarget.value })}
          >
            <option value="">All topics</option>
            {topics.map((topic) => (
              <option key={topic.name} value={topic.name}>
                {topic.name} ({topic.bookCount})
              </option>
            ))}
            {params.topic && !topics.some((topic) => topic.name === params.topic) && (
              <option value={params.topic}>{params.topic}</option>
            )}
          </select>
        </div>
        <div class="field">
          <label for="search-author">Author</label>
          <input
            id="search-author"
            name="author"
            value={text.author}
            onInput={(event) => {
              const value = event.currentTarget.value;
              setText((state) => ({ ...state, author: value }));
            }}
            onChange={(event) => apply({ author: event.currentTarget.value })}
          />
        </div>
        <div class="field field-narrow">
          <label for="search-min">Min price ({currency})</label>
          <input
            id="search-min"
            name="min"
            inputMode="decimal"
            value={text.min}
            onInput={(event) => {
              const value = event.currentTarget.value;
              setText((state) => ({ ...state, min: value }));
            }}
            onChange={(event) => apply({ min: event.currentTarget.value })}
          />
        </div>
        <div class="field field-narrow">
          <label for="search-max">Max price ({currency})</label>
          <input
            id="search-max"
            name="max"
            inputMode="decimal"
            value={text.max}
            onInput={(event) => {
              const value = event.currentTarget.value;
              setText((state) => ({ ...state, max: value }));
            }}
            onChange={(event) => apply({ max: event.currentTarget.value })}
          />
        </div>
        <div class="field field-check">
          <input
            id="search-stock"
            name="stock"
            type="checkbox"
            checked={params.stock}
            onChange={(event) => apply({ stock: event.currentTarget.checked })}
          />
          <label for="search-stock">In stock only</label>
        </div>
        <div class="field field-sort">
          <label for="search-sort">Sort by</label>
          <select
            id="search-sort"
            name="sort"
            value={params.sort}
            onChange={(event) => apply({ sort: event.currentTarget.value as BookSort })}
          >
            {SORTS.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </div>
        <div class="filter-actions">
          <button type="submit">Search</button>
          {searching && (
            <a href="/" class="button button-secondary">
              Clear filters
            </a>
          )}
        </div>
      </form>

      <section aria-labelledby="results-heading" class="results" aria-busy={list.loading}>
        <h2 id="results-heading" class="visually-hidden">
          Results
        </h2>
        {list.problem && <Alert>{describe(list.problem)}</Alert>}
        {list.loading ? (
          <Loading label="Loading books…" />
        ) : (
          <p role="status" class="results-count">
            {list.total === 0
              ? 'No books match.'
              : `Showing ${list.books.length} of ${list.total} ${list.total === 1 ? 'book' : 'books'}`}
          </p>
        )}
        <ul class="book-grid">
          {list.books.map((book) => (
            <li key={book.id}>
              <BookCardView book={book} />
            </li>
          ))}
        </ul>
        {list.hasNextPage && !list.loading && (
          <button type="button" class="button-secondary load-more" onClick={loadMore} aria-disabled={list.loadingMore}>
            {list.loadingMore ? 'Loading…' : 'Load more'}
          </button>
        )}
      </section>
    </>
  );
}
