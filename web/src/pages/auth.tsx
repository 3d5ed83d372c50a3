// Sign in and register (cookie mode): the BFF merges the guest cart into the account.
import { useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { client } from '../client';
import { fieldErrorsFor, safeNext, text, useFocusFirstInvalid, type FieldErrors } from '../components/forms';
import { Alert, Field, PageHeading } from '../components/ui';
import { describe, firstProblem } from '../errors';
import { graphql } from '../gql';
import { useShop } from '../store';

const loginMutation = graphql(`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      expiresIn
      user {
        ...MeFields
      }
    }
  }
`);

const registerMutation = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      expiresIn
      user {
        ...MeFields
      }
    }
  }
`);

const SIGN_IN_LABELS = { email: 'Email', password: 'Password' };
const REGISTER_LABELS = { name: 'Name', email: 'Email', password: 'Password' };

export function SignInForm({ idPrefix, onDone }: { idPrefix: string; onDone: () => void }) {
  const shop = useShop();
  const form = useRef<HTMLFormElement>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [alert, setAlert] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useFocusFirstInvalid(form, errors);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    const data = new FormData(form.current!);
    const email = text(data, 'email');
    const password = String(data.get('password') ?? '');
    const local: FieldErrors = {};
    if (!email) local.email = 'Enter your email address.';
    if (!password) local.password = 'Enter your password.';
    setAlert(null);
    setErrors(local);
    if (Object.keys(local).length) return;
    setBusy(true);
    const result = await client.mutation(loginMutation, { email, password }).toPromise();
    if (result.data) {
      await shop.signedIn(result.data.login.user);
      setBusy(false);
      onDone();
      return;
    }
    setBusy(false);
    const problem = firstProblem(result.error);
    if (!problem) return;
    const fields = fieldErrorsFor(problem, SIGN_IN_LABELS);
    if (fields) setErrors(fields);
    else if (problem.code === 'UNAUTHENTICATED') setAlert('The email or password is not right. Please try again.');
    else setAlert(describe(problem));
  };

  return (
    <form ref={form} class="stack" onSubmit={submit} noValidate aria-label="Sign in">
      {alert && <Alert>{alert}</Alert>}
      <Field
        id={`${idPrefix}-email`}
        name="email"
        label="Email"
        type="email"
        autocomplete="email"
        error={errors.email}
      />
      <Field
        id={`${idPrefix}-password`}
        name="password"
        label="Password"
        type="password"
        autocomplete="current-password"
        error={errors.password}
      />
      <button type="submit" aria-disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

export function RegisterForm({ idPrefix, onDone }: { idPrefix: string; onDone: () => void }) {
  const shop = useShop();
  const form = useRef<HTMLFormElement>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [alert, setAlert] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useFocusFirstInvalid(form, errors);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    const data = new FormData(form.current!);
    const input = {
      name: text(data, 'name'),
      email: text(data, 'email'),
      password: String(data.get('password') ?? ''),
    };
    const local: FieldErrors = {};
    if (!input.name) local.name = 'Enter your name.';
    if (!input.email) local.email = 'Enter your email address.';
    if (input.password.length < 10) local.password = 'Password must be at least 10 characters.';
    setAlert(null);
    setErrors(local);
    if (Object.keys(local).length) return;
    setBusy(true);
    const result = await client.mutation(registerMutation, { input }).toPromise();
    if (result.data) {
      await shop.signedIn(result.data.register.user);
      setBusy(false);
      onDone();
      return;
    }
    setBusy(false);
    const problem = firstProblem(result.error);
    if (!problem) return;
    const fields = fieldErrorsFor(problem, REGISTER_LABELS);
    if (fields) setErrors(fields);
    else if (problem.code === 'CONFLICT')
      setErrors({ email: 'An account with this email already exists. Sign in instead.' });
    else setAlert(describe(problem));
  };

  return (
    <form ref={form} class="stack" onSubmit={submit} noValidate aria-label="Create an account">
      {alert && <Alert>{alert}</Alert>}
      <Field id={`${idPrefix}-name`} name="name" label="Name" autocomplete="name" error={errors.name} />
      <Field
        id={`${idPrefix}-email`}
        name="email"
        label="Email"
        type="email"
        autocomplete="email"
        error={errors.email}
      />
      <Field
        id={`${idPrefix}-password`}
        name="password"
        label="Password"
        type="password"
        autocomplete="new-password"
        hint="At least 10 characters."
        error={errors.password}
      />
      <button type="submit" aria-disabled={busy}>
        {busy ? 'Creating account…' : 'Create account'}
      </button>
    </form>
  );
}

function SignedInNote() {
  const shop = useShop();
  return (
    <p>
      You are signed in as {shop.user?.email}. <a href="/account">Your account</a> · <a href="/">Browse the books</a>
    </p>
  );
}

/** Goes on to `next` unless the shopper already went elsewhere while signing in. */
function followIfStillHere(here: string, next: string, route: (url: string) => void) {
  if (location.pathname === here) route(next);
}

export function SignInPage() {
  const shop = useShop();
  const { query, route } = useLocation();
  const next = safeNext(query.next);
  const register = next === '/' ? '/register' : `/register?next=${encodeURIComponent(next)}`;
  return (
    <div class="narrow">
      <PageHeading title="Sign in">Sign in</PageHeading>
      {shop.user ? (
        <SignedInNote />
      ) : (
        <>
          <SignInForm idPrefix="signin" onDone={() => followIfStillHere('/signin', next, route)} />
          <p>
            New here? <a href={register}>Create an account</a>
          </p>
        </>
      )}
    </div>
  );
}

export function RegisterPage() {
  const shop = useShop();
  const { query, route } = useLocation();
  const next = safeNext(query.next);
  const signIn = next === '/' ? '/signin' : `/signin?next=${encodeURIComponent(next)}`;
  return (
    <div class="narrow">
      <PageHeading title="Create an account">Create an account</PageHeading>
      {shop.user ? (
        <SignedInNote />
      ) : (
        <>
          <RegisterForm idPrefix="register" onDone={() => followIfStillHere('/register', next, route)} />
          <p>
            Already have an account? <a href={signIn}>Sign in</a>
          </p>
        </>
      )}
    </div>
  );
}
