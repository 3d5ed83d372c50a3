// `/account`: the profile's name, saved addresses (add, remove) and sign out.
import { useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { client } from '../client';
import { fieldErrorsFor, text, useFocusFirstInvalid, type FieldErrors } from '../components/forms';
import { Alert, Field, Loading, PageHeading, Status } from '../components/ui';
import { describe, firstProblem } from '../errors';
import { graphql } from '../gql';
import { useShop, type Me } from '../store';

const updateProfileMutation = graphql(`
  mutation UpdateProfile($name: String!) {
    updateProfile(name: $name) {
      ...MeFields
    }
  }
`);

const addAddressMutation = graphql(`
  mutation AddAddress($input: AddressInput!) {
    addAddress(input: $input) {
      ...MeFields
    }
  }
`);

const removeAddressMutation = graphql(`
  mutation RemoveAddress($id: ID!) {
    removeAddress(id: $id) {
      ...MeFields
    }
  }
`);

const ADDRESS_LABELS: Record<string, string> = {
  line1: 'Address line 1',
  line2: 'Address line 2',
  city: 'City',
  postalCode: 'Postal code',
  country: 'Country',
};

function ProfileForm({ user }: { user: Me }) {
  const shop = useShop();
  const form = useRef<HTMLFormElement>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [message, setMessage] = useState<string | null>(null);
  const [alert, setAlert] = useState<string | null>(null);
  useFocusFirstInvalid(form, errors);
  return (
    <form
      ref={form}
      class="stack"
      aria-labelledby="profile-heading"
      noValidate
      onSubmit={async (event) => {
        event.preventDefault();
        const name = text(new FormData(form.current!), 'name');
        setMessage(null);
        setAlert(null);
        if (!name) {
          setErrors({ name: 'Enter your name.' });
          return;
        }
        setErrors({});
        const result = await client.mutation(updateProfileMutation, { name }).toPromise();
        if (result.data) {
          shop.setUser(result.data.updateProfile);
          setMessage('Your name has been saved.');
          return;
        }
        const problem = firstProblem(result.error);
        if (!problem) return;
        const fields = fieldErrorsFor(problem, { name: 'Name' });
        if (fields) setErrors(fields);
        else setAlert(describe(problem));
      }}
    >
      <h2 id="profile-heading">Profile</h2>
      {alert && <Alert>{alert}</Alert>}
      <p>Email: {user.email}</p>
      <Field
        id="profile-name"
        name="name"
        label="Name"
        autocomplete="name"
        defaultValue={user.name}
        error={errors.name}
      />
      <div>
        <button type="submit">Save name</button>
      </div>
      {message && <Status>{message}</Status>}
    </form>
  );
}

function Addresses({ user }: { user: Me }) {
  const shop = useShop();
  const form = useRef<HTMLFormElement>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [alert, setAlert] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  useFocusFirstInvalid(form, errors);

  const remove = async (id: string, label: string) => {
    setMessage(null);
    const result = await client.mutation(removeAddressMutation, { id }).toPromise();
    if (result.data) {
      shop.setUser(result.data.removeAddress);
      setMessage(`Removed ${label}.`);
      document.getElementById('addresses-heading')?.focus();
    } else {
      const problem = firstProblem(result.error);
      if (problem) setAlert(describe(problem));
    }
  };

  const add = async (event: Event) => {
    event.preventDefault();
    const data = new FormData(form.current!);
    const input = {
      line1: text(data, 'line1'),
      line2: text(data, 'line2') || undefined,
      city: text(data, 'city'),
      postalCode: text(data, 'postalCode'),
      country: text(data, 'country').toUpperCase(),
      isDefault: data.get('isDefault') === 'on',
    };
    const local: FieldErrors = {};
    if (!input.line1) local.line1 = 'Enter the street address.';
    if (!input.city) local.city = 'Enter the city.';
    if (!input.postalCode) local.postalCode = 'Enter the postal code.';
    if (!input.country) local.country = 'Enter the two-letter country code, such as US or DE.';
    setAlert(null);
    setMessage(null);
    setErrors(local);
    if (Object.keys(local).length) return;
    const result = await client.mutation(addAddressMutation, { input }).toPromise();
    if (result.data) {
      shop.setUser(result.data.addAddress);
      form.current?.reset();
      setMessage('Address added.');
      return;
    }
    const problem = firstProblem(result.error);
    if (!problem) return;
    const fields = fieldErrorsFor(problem, ADDRESS_LABELS);
    if (fields) setErrors(fields);
    else setAlert(describe(problem));
  };

  return (
    <section aria-labelledby="addresses-heading">
      <h2 id="addresses-heading" tabIndex={-1}>
        Addresses
      </h2>
      {message && <Status>{message}</Status>}
      {alert && <Alert>{alert}</Alert>}
      {user.addresses.length === 0 ? (
        <p>No saved addresses yet.</p>
      ) : (
        <ul class="address-list">
          {user.addresses.map((address) => {
            const label = [address.line1, address.line2, `${address.postalCode} ${address.city}`, address.country]
              .filter(Boolean)
              .join(', ');
            return (
              <li key={address.id}>
                <span>
                  {label}
                  {address.isDefault && <strong class="badge"> Default</strong>}
                </span>
                <button
                  type="button"
                  class="button-link"
                  aria-label={`Remove address ${label}`}
                  onClick={() => remove(address.id, label)}
                >
                  Remove
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <form ref={form} class="stack" aria-labelledby="add-address-heading" noValidate onSubmit={add}>
        <h3 id="add-address-heading">Add an address</h3>
        <Field
          id="address-line1"
          name="line1"
          label="Address line 1"
          autocomplete="address-line1"
          error={errors.line1}
        />
        <Field
          id="address-line2"
          name="line2"
          label="Address line 2 (optional)"
          autocomplete="address-line2"
          error={errors.line2}
        />
        <Field id="address-city" name="city" label="City" autocomplete="address-level2" error={errors.city} />
        <Field
          id="address-postal"
          name="postalCode"
          label="Postal code"
          autocomplete="postal-code"
          error={errors.postalCode}
        />
        <Field
          id="address-country"
          name="country"
          label="Country"
          autocomplete="country"
          maxLength={2}
          hint="Two-letter code, such as US or DE."
          error={errors.country}
        />
        <div class="field field-check">
          <input id="address-default" name="isDefault" type="checkbox" />
          <label for="address-default">Make this my default address</label>
        </div>
        <div>
          <button type="submit">Add address</button>
        </div>
      </form>
    </section>
  );
}

export function AccountPage() {
  const shop = useShop();
  const { route } = useLocation();
  if (!shop.ready) return <Loading label="Loading your account…" />;
  if (!shop.user) {
    return (
      <>
        <PageHeading title="Your account">Your account</PageHeading>
        <p>
          <a href="/signin?next=%2Faccount">Sign in</a> to see your account.
        </p>
      </>
    );
  }
  return (
    <>
      <PageHeading title="Your account">Your account</PageHeading>
      <div class="account-grid">
        <ProfileForm user={shop.user} />
        <Addresses user={shop.user} />
      </div>
      <section aria-labelledby="session-heading" class="stack">
        <h2 id="session-heading">Session</h2>
        <p>
          <a href="/account/orders">Your orders</a>
        </p>
        <div>
          <button
            type="button"
            class="button-secondary"
            onClick={async () => {
              await shop.signOut();
              route('/');
            }}
          >
            Sign out of this browser
          </button>
        </div>
      </section>
    </>
  );
}
