//! An email address, normalised: trimmed and lower-cased, so `Ann@X.org ` and `ann@x.org`
//! are one account.

use std::fmt;

use proto::types::InvalidField;

const MAX_LENGTH: usize = 254;

/// A normalised, plausibly deliverable email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses and normalises `raw`.
    ///
    /// # Errors
    /// Returns [`InvalidField`] for `email` when it is empty, too long or not `local@domain.tld`.
    pub fn parse(raw: &str) -> Result<Email, InvalidField> {
        let normalised = raw.trim().to_lowercase();
        let invalid = |reason: &str| InvalidField::new("email", reason);
        if normalised.is_empty() {
            return Err(invalid("is required"));
        }
        if normalised.len() > MAX_LENGTH {
            return Err(invalid("must be at most 254 characters"));
        }
        if normalised
            .chars()
            .any(|character| character.is_whitespace() || character.is_control())
        {
            return Err(invalid("must not contain spaces"));
        }
        let Some((local, domain)) = normalised.rsplit_once('@') else {
            return Err(invalid("must look like name@example.com"));
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || local.contains('@') || !domain_ok {
            return Err(invalid("must look like name@example.com"));
        }
        Ok(Email(normalised))
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ann.Lee@Example.ORG ").unwrap().as_ref(),
            "ann.lee@example.org"
        );
    }

    #[test]
    fn implausible_addresses_are_refused_naming_the_field() {
        let long = format!("{}@example.org", "a".repeat(250));
        for bad in [
            "",
            "   ",
            "ann",
            "ann@",
            "@x.org",
            "ann@x",
            "ann@.org",
            "ann@x.org.",
            "a b@x.org",
            "a@b@x.org",
            &long,
        ] {
            let error = Email::parse(bad).unwrap_err();
            assert_eq!(error.field, "email", "{bad:?}");
        }
    }
}
