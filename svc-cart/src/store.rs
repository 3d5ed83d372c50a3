//! Carts in Redis: one hash per cart (`book id -> quantity`, plus `_`-prefixed metadata), its
//! key `<prefix>:cart:{u:<user>}` or `<prefix>:cart:{g:<session>}` (a hash tag: one slot per cart on
//! Redis Cluster). Every mutation is one Lua script, so limits are checked and quantities
//! changed atomically: two tabs adding the same book both count. Each write refreshes the TTL.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use anyhow::Context as _;
use platform::store::LazyRedis;
use redis::Script;
use uuid::Uuid;

use proto::types::BookId;

use crate::domain::{Cart, CartOwner, MAX_LINES, MAX_QUANTITY};
use crate::error::{CartError, CartRefusal, CartResult};

/// Counts the book lines of a cart (fields not starting with `_`).
const COUNT_LINES: &str = r"
local function count_lines(key)
  local lines = 0
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, 1) ~= '_' then lines = lines + 1 end
  end
  return lines
end
";

/// KEYS[1] cart; ARGV book, quantity, max quantity, max lines, ttl ms, now ms, cart id.
static ADD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{COUNT_LINES}
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if current == 0 and count_lines(KEYS[1]) >= tonumber(ARGV[4]) then return redis.error_reply('LINES cart line limit') end
local wanted = current + tonumber(ARGV[2])
if wanted > tonumber(ARGV[3]) then return redis.error_reply('QUANTITY cart quantity limit') end
redis.call('HSET', KEYS[1], ARGV[1], wanted, '_updated_at', ARGV[6])
redis.call('HSETNX', KEYS[1], '_id', ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return redis.call('HGETALL', KEYS[1])"
    ))
});

/// KEYS[1] cart; ARGV book, quantity (0 removes), max lines, ttl ms, now ms, cart id.
static SET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{COUNT_LINES}
local quantity = tonumber(ARGV[2])
if quantity == 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and count_lines(KEYS[1]) >= tonumber(ARGV[3]) then
    return redis.error_reply('LINES cart line limit')
  end
  redis.call('HSET', KEYS[1], ARGV[1], quantity)
end
if count_lines(KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  return {{}}
end
redis.call('HSET', KEYS[1], '_updated_at', ARGV[5])
redis.call('HSETNX', KEYS[1], '_id', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('HGETALL', KEYS[1])"
    ))
});

/// KEYS[1] user cart; ARGV marker, max quantity, max lines, ttl ms, now ms, then book,
/// quantity pairs. Applies a guest cart once (the marker names that guest cart), capping
/// each line at the maximum and dropping books beyond the line limit.
static MERGE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{COUNT_LINES}
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return redis.call('HGETALL', KEYS[1]) end
local lines = count_lines(KEYS[1])
for index = 6, #ARGV, 2 do
  local book = ARGV[index]
  local current = tonumber(redis.call('HGET', KEYS[1], book) or '0')
  if current > 0 or lines < tonumber(ARGV[3]) then
    if current == 0 then lines = lines + 1 end
    redis.call('HSET', KEYS[1], book, math.min(current + tonumber(ARGV[index + 1]), tonumber(ARGV[2])))
  end
end
redis.call('HSET', KEYS[1], ARGV[1], '1', '_updated_at', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('HGETALL', KEYS[1])"
    ))
});

/// A cart as stored, with the id of this incarnation of it (a guest cart deleted and
/// started again gets a new one), so a merge applies each guest cart once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct StoredCart {
    cart: Cart,
    cart_id: Option<String>,
}

/// Reads a stored cart; a field this code did not write (a line whose book is not a uuid or
/// whose quantity is not a number) is an error naming it, never a line quietly dropped.
fn read(fields: HashMap<String, String>) -> anyhow::Result<StoredCart> {
    let mut stored = StoredCart::default();
    for (field, value) in fields {
        match field.as_str() {
            "_updated_at" => {
                let updated_at = value.parse().with_context(|| {
                    format!("stored cart field _updated_at is not a timestamp: {value:?}")
                })?;
                stored.cart.updated_at_ms = Some(updated_at);
            }
            "_id" => stored.cart_id = Some(value),
            other if other.starts_with('_') => {}
            book => {
                let book_id = Uuid::parse_str(book)
                    .with_context(|| format!("stored cart line {book:?} is not a book id"))?;
                let quantity = value.parse::<i64>().with_context(|| {
                    format!("stored cart line {book} has a quantity that is not a number: {value:?}")
                })?;
                stored.cart.lines.push((book_id.into(), quantity));
            }
        }
    }
    stored.cart.lines.sort();
    Ok(stored)
}

/// The carts of one deployment, under one key prefix.
#[derive(Debug, Clone)]
pub struct CartStore {
    redis: LazyRedis,
    ttl: Duration,
}

fn unavailable(error: &redis::RedisError) -> CartError {
    match error.code() {
        Some("LINES") => CartError::InvalidArgument(proto::types::InvalidField::new(
            "lines",
            format!("a cart holds at most {MAX_LINES} different books"),
        )),
        Some("QUANTITY") => CartError::InvalidArgument(proto::types::InvalidField::new(
            "quantity",
            format!("a cart holds at most {MAX_QUANTITY} copies of a book"),
        )),
        _ => {
            tracing::warn!(%error, "redis call failed");
            CartError::from(CartRefusal::Unavailable(
                "cart storage is unavailable, retry shortly",
            ))
        }
    }
}

impl CartStore {
    /// Creates the store; keys are `<prefix>:cart:<owner tag>`.
    pub fn new(redis: LazyRedis, ttl: Duration) -> Self {
        Self { redis, ttl }
    }

    /// Returns the Redis key of `owner`'s cart.
    pub fn key(&self, owner: &CartOwner) -> String {
        self.redis.key(&format!("cart:{}", owner.key_tag()))
    }

    fn connection(&self) -> CartResult<platform::store::RedisConnection> {
        self.redis
            .get()
            .map(|store| store.connection())
            .ok_or(CartError::from(CartRefusal::Unavailable(
                "cart storage is not connected yet",
            )))
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)
    }

    /// Reads a cart (absent reads as empty).
    pub async fn get(&self, owner: &CartOwner) -> CartResult<Cart> {
        Ok(self.stored(owner).await?.cart)
    }

    async fn stored(&self, owner: &CartOwner) -> CartResult<StoredCart> {
        let fields: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(self.key(owner))
            .query_async(&mut self.connection()?)
            .await
            .map_err(|error| unavailable(&error))?;
        Ok(read(fields)?)
    }

    /// Adds `quantity` copies.
    pub async fn add(&self, owner: &CartOwner, book: BookId, quantity: i64) -> CartResult<Cart> {
        let fields: HashMap<String, String> = ADD
            .key(self.key(owner))
            .arg(book.to_string())
            .arg(quantity)
            .arg(MAX_QUANTITY)
            .arg(MAX_LINES)
            .arg(self.ttl_ms())
            .arg(now_ms())
            .arg(Uuid::now_v7().to_string())
            .invoke_async(&mut self.connection()?)
            .await
            .map_err(|error| unavailable(&error))?;
        Ok(read(fields)?.cart)
    }

    /// Sets the quantity exactly; 0 removes the line (and an empty cart is deleted).
    pub async fn set(&self, owner: &CartOwner, book: BookId, quantity: i64) -> CartResult<Cart> {
        let fields: HashMap<String, String> = SET
            .key(self.key(owner))
            .arg(book.to_string())
            .arg(quantity)
            .arg(MAX_LINES)
            .arg(self.ttl_ms())
            .arg(now_ms())
            .arg(Uuid::now_v7().to_string())
            .invoke_async(&mut self.connection()?)
            .await
            .map_err(|error| unavailable(&error))?;
        Ok(read(fields)?.cart)
    }

    /// Deletes a cart.
    pub async fn clear(&self, owner: &CartOwner) -> CartResult<()> {
        redis::cmd("DEL")
            .arg(self.key(owner))
            .query_async::<()>(&mut self.connection()?)
            .await
            .map_err(|error| unavailable(&error))
    }

    /// Moves a guest cart into a user's: quantities add (capped), then the guest cart goes.
    /// The two carts live in different slots, so this is two atomic steps made safe to
    /// retry: the user's cart remembers which guest cart it absorbed.
    pub async fn merge(&self, guest: &CartOwner, user: &CartOwner) -> CartResult<Cart> {
        let guest_cart = self.stored(guest).await?;
        let Some(cart_id) = &guest_cart.cart_id else {
            return self.get(user).await;
        };
        let mut invocation = MERGE.key(self.key(user));
        invocation
            .arg(format!("_merged:{cart_id}"))
            .arg(MAX_QUANTITY)
            .arg(MAX_LINES)
            .arg(self.ttl_ms())
            .arg(now_ms());
        for (book, quantity) in &guest_cart.cart.lines {
            invocation.arg(book.to_string()).arg(*quantity);
        }
        let fields: HashMap<String, String> = invocation
            .invoke_async(&mut self.connection()?)
            .await
            .map_err(|error| unavailable(&error))?;
        self.clear(guest).await?;
        Ok(read(fields)?.cart)
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(field, value)| ((*field).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn a_stored_cart_reads_back_its_lines_in_order() {
        let book = "0190a1b2-0000-7000-8000-000000000001";
        let stored = read(fields(&[
            (book, "2"),
            ("_updated_at", "1700000000000"),
            ("_id", "cart-1"),
            ("_merged:other", "1"),
        ]))
        .expect("a well-formed cart");
        assert_eq!(stored.cart.lines.len(), 1);
        assert_eq!(stored.cart.lines[0].1, 2);
        assert_eq!(stored.cart.updated_at_ms, Some(1_700_000_000_000));
        assert_eq!(stored.cart_id.as_deref(), Some("cart-1"));
    }

    #[test]
    fn a_field_this_code_did_not_write_is_an_error_naming_it_not_a_dropped_line() {
        let book = "0190a1b2-0000-7000-8000-000000000001";
        for (pairs, named) in [
            (vec![("not-a-book", "1")], "not-a-book"),
            (vec![(book, "two")], book),
            (vec![("_updated_at", "yesterday")], "_updated_at"),
        ] {
            let error = read(fields(&pairs)).expect_err("a malformed field is refused");
            assert!(format!("{error:#}").contains(named), "{error:#} names {named}");
        }
    }
}
