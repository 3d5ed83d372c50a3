// Fragments shared by several operations. Codegen inlines them into each document that
// spreads them; the types are exported from ./gql/graphql as `…Fragment`.
import { graphql } from './gql';

export const BookCard = graphql(`
  fragment BookCard on Book {
    id
    title
    authors
    price {
      amount
      currency
      formatted
    }
    availability {
      inStock
      available
    }
  }
`);

export const AddressFields = graphql(`
  fragment AddressFields on Address {
    id
    line1
    line2
    city
    postalCode
    country
    isDefault
  }
`);

export const MeFields = graphql(`
  fragment MeFields on User {
    id
    email
    name
    role
    addresses {
      ...AddressFields
    }
  }
`);

export const CartFields = graphql(`
  fragment CartFields on Cart {
    totalQuantity
    subtotal {
      formatted
    }
    items {
      quantity
      lineTotal {
        formatted
      }
      book {
        id
        title
        authors
        price {
          formatted
        }
        availability {
          inStock
          available
        }
      }
    }
  }
`);

export const OrderFields = graphql(`
  fragment OrderFields on Order {
    id
    status
    createdAt
    failureReason
    total {
      formatted
    }
    lines {
      bookId
      title
      quantity
      unitPrice {
        formatted
      }
    }
    shippingAddress {
      ...AddressFields
    }
    payment {
      method
      brand
      last4
      status
    }
    history {
      status
      at
      note
    }
  }
`);
