/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation Refresh {\n    refreshToken(refreshToken: \"\") {\n      expiresIn\n    }\n  }\n": typeof types.RefreshDocument,
    "\n  fragment BookCard on Book {\n    id\n    title\n    authors\n    price {\n      amount\n      currency\n      formatted\n    }\n    availability {\n      inStock\n      available\n    }\n  }\n": typeof types.BookCardFragmentDoc,
    "\n  fragment AddressFields on Address {\n    id\n    line1\n    line2\n    city\n    postalCode\n    country\n    isDefault\n  }\n": typeof types.AddressFieldsFragmentDoc,
    "\n  fragment MeFields on User {\n    id\n    email\n    name\n    role\n    addresses {\n      ...AddressFields\n    }\n  }\n": typeof types.MeFieldsFragmentDoc,
    "\n  fragment CartFields on Cart {\n    totalQuantity\n    subtotal {\n      formatted\n    }\n    items {\n      quantity\n      lineTotal {\n        formatted\n      }\n      book {\n        id\n        title\n        authors\n        price {\n          formatted\n        }\n        availability {\n          inStock\n          available\n        }\n      }\n    }\n  }\n": typeof types.CartFieldsFragmentDoc,
    "\n  fragment OrderFields on Order {\n    id\n    status\n    createdAt\n    failureReason\n    total {\n      formatted\n    }\n    lines {\n      bookId\n      title\n      quantity\n      unitPrice {\n        formatted\n      }\n    }\n    shippingAddress {\n      ...AddressFields\n    }\n    payment {\n      method\n      brand\n      last4\n      status\n    }\n    history {\n      status\n      at\n      note\n    }\n  }\n": typeof types.OrderFieldsFragmentDoc,
    "\n  mutation UpdateProfile($name: String!) {\n    updateProfile(name: $name) {\n      ...MeFields\n    }\n  }\n": typeof types.UpdateProfileDocument,
    "\n  mutation AddAddress($input: AddressInput!) {\n    addAddress(input: $input) {\n      ...MeFields\n    }\n  }\n": typeof types.AddAddressDocument,
    "\n  mutation RemoveAddress($id: ID!) {\n    removeAddress(id: $id) {\n      ...MeFields\n    }\n  }\n": typeof types.RemoveAddressDocument,
    "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      expiresIn\n      user {\n        ...MeFields\n      }\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      expiresIn\n      user {\n        ...MeFields\n      }\n    }\n  }\n": typeof types.RegisterDocument,
    "\n  query Book($id: ID!) {\n    book(id: $id) {\n      id\n      isbn\n      title\n      authors\n      topics\n      description\n      publishedYear\n      price {\n        formatted\n      }\n      availability {\n        inStock\n        available\n      }\n    }\n  }\n": typeof types.BookDocument,
    "\n  query Books($filter: BookFilter, $sort: BookSort, $first: Int, $after: String) {\n    books(filter: $filter, sort: $sort, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...BookCard\n        }\n      }\n    }\n  }\n": typeof types.BooksDocument,
    "\n  query Topics {\n    topics {\n      name\n      bookCount\n    }\n  }\n": typeof types.TopicsDocument,
    "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      id\n      status\n      failureReason\n    }\n  }\n": typeof types.PlaceOrderDocument,
    "\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderFields\n    }\n  }\n": typeof types.OrderDocument,
    "\n  subscription OrderUpdated($id: ID!) {\n    orderUpdated(id: $id) {\n      ...OrderFields\n    }\n  }\n": typeof types.OrderUpdatedDocument,
    "\n  query Orders($first: Int, $after: String) {\n    orders(first: $first, after: $after) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          status\n          createdAt\n          total {\n            formatted\n          }\n          lines {\n            quantity\n          }\n        }\n      }\n    }\n  }\n": typeof types.OrdersDocument,
    "\n  query Boot {\n    me {\n      ...MeFields\n    }\n    cart {\n      ...CartFields\n    }\n  }\n": typeof types.BootDocument,
    "\n  query Cart {\n    cart {\n      ...CartFields\n    }\n  }\n": typeof types.CartDocument,
    "\n  mutation AddToCart($bookId: ID!, $quantity: Int!) {\n    addToCart(bookId: $bookId, quantity: $quantity) {\n      ...CartFields\n    }\n  }\n": typeof types.AddToCartDocument,
    "\n  mutation UpdateCartItem($bookId: ID!, $quantity: Int!) {\n    updateCartItem(bookId: $bookId, quantity: $quantity) {\n      ...CartFields\n    }\n  }\n": typeof types.UpdateCartItemDocument,
    "\n  mutation RemoveFromCart($bookId: ID!) {\n    removeFromCart(bookId: $bookId) {\n      ...CartFields\n    }\n  }\n": typeof types.RemoveFromCartDocument,
    "\n  mutation Logout {\n    logout\n  }\n": typeof types.LogoutDocument,
};
const documents: Documents = {
    "\n  mutation Refresh {\n    refreshToken(refreshToken: \"\") {\n      expiresIn\n    }\n  }\n": types.RefreshDocument,
    "\n  fragment BookCard on Book {\n    id\n    title\n    authors\n    price {\n      amount\n      currency\n      formatted\n    }\n    availability {\n      inStock\n      available\n    }\n  }\n": types.BookCardFragmentDoc,
    "\n  fragment AddressFields on Address {\n    id\n    line1\n    line2\n    city\n    postalCode\n    country\n    isDefault\n  }\n": types.AddressFieldsFragmentDoc,
    "\n  fragment MeFields on User {\n    id\n    email\n    name\n    role\n    addresses {\n      ...AddressFields\n    }\n  }\n": types.MeFieldsFragmentDoc,
    "\n  fragment CartFields on Cart {\n    totalQuantity\n    subtotal {\n      formatted\n    }\n    items {\n      quantity\n      lineTotal {\n        formatted\n      }\n      book {\n        id\n        title\n        authors\n        price {\n          formatted\n        }\n        availability {\n          inStock\n          available\n        }\n      }\n    }\n  }\n": types.CartFieldsFragmentDoc,
    "\n  fragment OrderFields on Order {\n    id\n    status\n    createdAt\n    failureReason\n    total {\n      formatted\n    }\n    lines {\n      bookId\n      title\n      quantity\n      unitPrice {\n        formatted\n      }\n    }\n    shippingAddress {\n      ...AddressFields\n    }\n    payment {\n      method\n      brand\n      last4\n      status\n    }\n    history {\n      status\n      at\n      note\n    }\n  }\n": types.OrderFieldsFragmentDoc,
    "\n  mutation UpdateProfile($name: String!) {\n    updateProfile(name: $name) {\n      ...MeFields\n    }\n  }\n": types.UpdateProfileDocument,
    "\n  mutation AddAddress($input: AddressInput!) {\n    addAddress(input: $input) {\n      ...MeFields\n    }\n  }\n": types.AddAddressDocument,
    "\n  mutation RemoveAddress($id: ID!) {\n    removeAddress(id: $id) {\n      ...MeFields\n    }\n  }\n": types.RemoveAddressDocument,
    "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      expiresIn\n      user {\n        ...MeFields\n      }\n    }\n  }\n": types.LoginDocument,
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      expiresIn\n      user {\n        ...MeFields\n      }\n    }\n  }\n": types.RegisterDocument,
    "\n  query Book($id: ID!) {\n    book(id: $id) {\n      id\n      isbn\n      title\n      authors\n      topics\n      description\n      publishedYear\n      price {\n        formatted\n      }\n      availability {\n        inStock\n        available\n      }\n    }\n  }\n": types.BookDocument,
    "\n  query Books($filter: BookFilter, $sort: BookSort, $first: Int, $after: String) {\n    books(filter: $filter, sort: $sort, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...BookCard\n        }\n      }\n    }\n  }\n": types.BooksDocument,
    "\n  query Topics {\n    topics {\n      name\n      bookCount\n    }\n  }\n": types.TopicsDocument,
    "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      id\n      status\n      failureReason\n    }\n  }\n": types.PlaceOrderDocument,
    "\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderFields\n    }\n  }\n": types.OrderDocument,
    "\n  subscription OrderUpdated($id: ID!) {\n    orderUpdated(id: $id) {\n      ...OrderFields\n    }\n  }\n": types.OrderUpdatedDocument,
    "\n  query Orders($first: Int, $after: String) {\n    orders(first: $first, after: $after) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          status\n          createdAt\n          total {\n            formatted\n          }\n          lines {\n            quantity\n          }\n        }\n      }\n    }\n  }\n": types.OrdersDocument,
    "\n  query Boot {\n    me {\n      ...MeFields\n    }\n    cart {\n      ...CartFields\n    }\n  }\n": types.BootDocument,
    "\n  query Cart {\n    cart {\n      ...CartFields\n    }\n  }\n": types.CartDocument,
    "\n  mutation AddToCart($bookId: ID!, $quantity: Int!) {\n    addToCart(bookId: $bookId, quantity: $quantity) {\n      ...CartFields\n    }\n  }\n": types.AddToCartDocument,
    "\n  mutation UpdateCartItem($bookId: ID!, $quantity: Int!) {\n    updateCartItem(bookId: $bookId, quantity: $quantity) {\n      ...CartFields\n    }\n  }\n": types.UpdateCartItemDocument,
    "\n  mutation RemoveFromCart($bookId: ID!) {\n    removeFromCart(bookId: $bookId) {\n      ...CartFields\n    }\n  }\n": types.RemoveFromCartDocument,
    "\n  mutation Logout {\n    logout\n  }\n": types.LogoutDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Refresh {\n    refreshToken(refreshToken: \"\") {\n      expiresIn\n    }\n  }\n"): (typeof documents)["\n  mutation Refresh {\n    refreshToken(refreshToken: \"\") {\n      expiresIn\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment BookCard on Book {\n    id\n    title\n    authors\n    price {\n      amount\n      currency\n      formatted\n    }\n    availability {\n      inStock\n      available\n    }\n  }\n"): (typeof documents)["\n  fragment BookCard on Book {\n    id\n    title\n    authors\n    price {\n      amount\n      currency\n      formatted\n    }\n    availability {\n      inStock\n      available\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AddressFields on Address {\n    id\n    line1\n    line2\n    city\n    postalCode\n    country\n    isDefault\n  }\n"): (typeof documents)["\n  fragment AddressFields on Address {\n    id\n    line1\n    line2\n    city\n    postalCode\n    country\n    isDefault\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment MeFields on User {\n    id\n    email\n    name\n    role\n    addresses {\n      ...AddressFields\n    }\n  }\n"): (typeof documents)["\n  fragment MeFields on User {\n    id\n    email\n    name\n    role\n    addresses {\n      ...AddressFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CartFields on Cart {\n    totalQuantity\n    subtotal {\n      formatted\n    }\n    items {\n      quantity\n      lineTotal {\n        formatted\n      }\n      book {\n        id\n        title\n        authors\n        price {\n          formatted\n        }\n        availability {\n          inStock\n          available\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment CartFields on Cart {\n    totalQuantity\n    subtotal {\n      formatted\n    }\n    items {\n      quantity\n      lineTotal {\n        formatted\n      }\n      book {\n        id\n        title\n        authors\n        price {\n          formatted\n        }\n        availability {\n          inStock\n          available\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment OrderFields on Order {\n    id\n    status\n    createdAt\n    failureReason\n    total {\n      formatted\n    }\n    lines {\n      bookId\n      title\n      quantity\n      unitPrice {\n        formatted\n      }\n    }\n    shippingAddress {\n      ...AddressFields\n    }\n    payment {\n      method\n      brand\n      last4\n      status\n    }\n    history {\n      status\n      at\n      note\n    }\n  }\n"): (typeof documents)["\n  fragment OrderFields on Order {\n    id\n    status\n    createdAt\n    failureReason\n    total {\n      formatted\n    }\n    lines {\n      bookId\n      title\n      quantity\n      unitPrice {\n        formatted\n      }\n    }\n    shippingAddress {\n      ...AddressFields\n    }\n    payment {\n      method\n      brand\n      last4\n      status\n    }\n    history {\n      status\n      at\n      note\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateProfile($name: String!) {\n    updateProfile(name: $name) {\n      ...MeFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateProfile($name: String!) {\n    updateProfile(name: $name) {\n      ...MeFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddAddress($input: AddressInput!) {\n    addAddress(input: $input) {\n      ...MeFields\n    }\n  }\n"): (typeof documents)["\n  mutation AddAddress($input: AddressInput!) {\n    addAddress(input: $input) {\n      ...MeFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveAddress($id: ID!) {\n    removeAddress(id: $id) {\n      ...MeFields\n    }\n  }\n"): (typeof documents)["\n  mutation RemoveAddress($id: ID!) {\n    removeAddress(id: $id) {\n      ...MeFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      expiresIn\n      user {\n        ...MeFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      expiresIn\n      user {\n        ...MeFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      expiresIn\n      user {\n        ...MeFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      expiresIn\n      user {\n        ...MeFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Book($id: ID!) {\n    book(id: $id) {\n      id\n      isbn\n      title\n      authors\n      topics\n      description\n      publishedYear\n      price {\n        formatted\n      }\n      availability {\n        inStock\n        available\n      }\n    }\n  }\n"): (typeof documents)["\n  query Book($id: ID!) {\n    book(id: $id) {\n      id\n      isbn\n      title\n      authors\n      topics\n      description\n      publishedYear\n      price {\n        formatted\n      }\n      availability {\n        inStock\n        available\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Books($filter: BookFilter, $sort: BookSort, $first: Int, $after: String) {\n    books(filter: $filter, sort: $sort, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...BookCard\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Books($filter: BookFilter, $sort: BookSort, $first: Int, $after: String) {\n    books(filter: $filter, sort: $sort, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...BookCard\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Topics {\n    topics {\n      name\n      bookCount\n    }\n  }\n"): (typeof documents)["\n  query Topics {\n    topics {\n      name\n      bookCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      id\n      status\n      failureReason\n    }\n  }\n"): (typeof documents)["\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      id\n      status\n      failureReason\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderFields\n    }\n  }\n"): (typeof documents)["\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription OrderUpdated($id: ID!) {\n    orderUpdated(id: $id) {\n      ...OrderFields\n    }\n  }\n"): (typeof documents)["\n  subscription OrderUpdated($id: ID!) {\n    orderUpdated(id: $id) {\n      ...OrderFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Orders($first: Int, $after: String) {\n    orders(first: $first, after: $after) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          status\n          createdAt\n          total {\n            formatted\n          }\n          lines {\n            quantity\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Orders($first: Int, $after: String) {\n    orders(first: $first, after: $after) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          status\n          createdAt\n          total {\n            formatted\n          }\n          lines {\n            quantity\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Boot {\n    me {\n      ...MeFields\n    }\n    cart {\n      ...CartFields\n    }\n  }\n"): (typeof documents)["\n  query Boot {\n    me {\n      ...MeFields\n    }\n    cart {\n      ...CartFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Cart {\n    cart {\n      ...CartFields\n    }\n  }\n"): (typeof documents)["\n  query Cart {\n    cart {\n      ...CartFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddToCart($bookId: ID!, $quantity: Int!) {\n    addToCart(bookId: $bookId, quantity: $quantity) {\n      ...CartFields\n    }\n  }\n"): (typeof documents)["\n  mutation AddToCart($bookId: ID!, $quantity: Int!) {\n    addToCart(bookId: $bookId, quantity: $quantity) {\n      ...CartFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateCartItem($bookId: ID!, $quantity: Int!) {\n    updateCartItem(bookId: $bookId, quantity: $quantity) {\n      ...CartFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateCartItem($bookId: ID!, $quantity: Int!) {\n    updateCartItem(bookId: $bookId, quantity: $quantity) {\n      ...CartFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveFromCart($bookId: ID!) {\n    removeFromCart(bookId: $bookId) {\n      ...CartFields\n    }\n  }\n"): (typeof documents)["\n  mutation RemoveFromCart($bookId: ID!) {\n    removeFromCart(bookId: $bookId) {\n      ...CartFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout {\n    logout\n  }\n"): (typeof documents)["\n  mutation Logout {\n    logout\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;