import { PageHeading } from '../components/ui';

export function NotFound() {
  return (
    <>
      <PageHeading title="Page not found">Page not found</PageHeading>
      <p>
        There is nothing at this address. <a href="/">Browse the books</a>.
      </p>
    </>
  );
}
