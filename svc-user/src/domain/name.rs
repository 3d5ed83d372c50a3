//! A person's display name.

use std::fmt;

use proto::types::InvalidField;

const MAX_CHARACTERS: usize = 100;

/// A trimmed, non-empty name without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Parses `raw`.
    ///
    /// # Errors
    /// Returns [`InvalidField`] for `name` when it is blank, too long or has control characters.
    pub fn parse(raw: &str) -> Result<DisplayName, InvalidField> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(InvalidField::new("name", "is required"));
        }
        if trimmed.chars().count() > MAX_CHARACTERS {
            return Err(InvalidField::new("name", "must be at most 100 characters"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(InvalidField::new("name", "must not contain control characters"));
        }
        Ok(DisplayName(trimmed.to_owned()))
    }
}

impl AsRef<str> for DisplayName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  Zoë Ødegård ").unwrap().as_ref(),
            "Zoë Ødegård"
        );
        assert_eq!(
            DisplayName::parse(&"é".repeat(100))
                .unwrap()
                .as_ref()
                .chars()
                .count(),
            100
        );
        for bad in ["", "  ", "a\u{0}b", &"x".repeat(101)] {
            assert_eq!(DisplayName::parse(bad).unwrap_err().field, "name", "{bad:?}");
        }
    }
}
