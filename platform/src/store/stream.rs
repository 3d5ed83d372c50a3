//! Redis stream replies, read the same way by every consumer of the event streams.

use std::collections::HashMap;

use redis::Value;

/// Reads the entries of an `XREAD`/`XRANGE` reply, `[[id, [field, value, ...]], ...]`, as
/// (id, fields); an entry of another shape is skipped.
pub fn stream_entries(list: &Value) -> Vec<(String, HashMap<String, String>)> {
    let Value::Array(items) = list else {
        return Vec::new();
    };
    let mut parsed = Vec::new();
    for item in items {
        let Value::Array(pair) = item else {
            continue;
        };
        let (Some(id), Some(Value::Array(values))) = (pair.first().and_then(text), pair.get(1)) else {
            continue;
        };
        let mut fields = HashMap::new();
        for chunk in values.chunks(2) {
            if let [key, value] = chunk
                && let (Some(key), Some(value)) = (text(key), text(value))
            {
                fields.insert(key, value);
            }
        }
        parsed.push((id, fields));
    }
    parsed
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(text) => Some(text.clone()),
        _ => None,
    }
}
