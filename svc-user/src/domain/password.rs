//! Passwords: length rules and a list of the most common ones for new passwords; a secret
//! that never appears in `Debug` output or logs.

use proto::types::InvalidField;
use secrecy::{ExposeSecret as _, SecretString};

const MIN_CHARACTERS: usize = 10;
const MAX_CHARACTERS: usize = 128;

/// The most common passwords of at least ten characters (shorter ones fail the length rule
/// anyway), compared case-insensitively.
const COMMON_PASSWORDS: [&str; 40] = [
    "1234567890",
    "0123456789",
    "0987654321",
    "1111111111",
    "0000000000",
    "1q2w3e4r5t",
    "qwertyuiop",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "qwerty1234",
    "qwerty12345",
    "qwerty123456",
    "123456789a",
    "a123456789",
    "abc1234567",
    "abcd123456",
    "iloveyou12",
    "iloveyou123",
    "letmein123",
    "welcome123",
    "admin12345",
    "administrator",
    "football123",
    "baseball123",
    "monkey1234",
    "dragon1234",
    "sunshine12",
    "princess12",
    "1qaz2wsx3edc",
    "zaq12wsxcde",
    "asdfghjkl1",
    "qazwsxedcrfv",
    "trustno1234",
    "changeme123",
    "aaaaaaaaaa",
    "superman123",
    "starwars123",
    "bookstore123",
];

/// A password as the user typed it; `Debug` prints only that it is redacted.
pub struct Password(SecretString);

impl std::fmt::Debug for Password {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Password([redacted])")
    }
}

impl Password {
    /// Parses a new password (registration, bootstrap admin) against the rules.
    ///
    /// # Errors
    /// Returns [`InvalidField`] for `password` when it is too short, too long or too common.
    pub fn new_password(raw: &str) -> Result<Password, InvalidField> {
        let characters = raw.chars().count();
        if characters < MIN_CHARACTERS {
            return Err(InvalidField::new("password", "must be at least 10 characters"));
        }
        if characters > MAX_CHARACTERS {
            return Err(InvalidField::new("password", "must be at most 128 characters"));
        }
        let lowered = raw.to_lowercase();
        if COMMON_PASSWORDS.contains(&lowered.as_str()) {
            return Err(InvalidField::new("password", "is too common, choose another"));
        }
        Ok(Password(SecretString::from(raw.to_owned())))
    }

    /// Wraps a password presented at login, where only a match matters.
    pub fn presented(raw: &str) -> Password {
        Password(SecretString::from(raw.to_owned()))
    }

    /// Returns true when the password could never have been registered (so login can skip
    /// nothing but still answer the same way).
    pub fn is_out_of_bounds(&self) -> bool {
        self.0.expose_secret().chars().count() > MAX_CHARACTERS
    }

    /// Returns the secret's bytes, for hashing only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_follow_the_rules() {
        assert!(Password::new_password("correct horse battery").is_ok());
        let cases = [
            ("short", "at least 10"),
            ("QwertyUiop", "too common"),
            ("Password123", "too common"),
        ];
        for (raw, reason) in cases {
            let error = Password::new_password(raw).unwrap_err();
            assert_eq!(error.field, "password");
            assert!(error.reason.contains(reason), "{raw}: {}", error.reason);
        }
        assert!(Password::new_password(&"x".repeat(129)).is_err());
        assert!(
            Password::new_password(&"é".repeat(128)).is_ok(),
            "characters, not bytes"
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let password = Password::presented("hunter2-but-longer");
        assert!(!format!("{password:?}").contains("hunter2"));
    }
}
