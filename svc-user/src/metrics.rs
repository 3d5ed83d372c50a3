//! svc-user's metrics, named here and described in [`describe`].

/// Password hashes refused at once because every hashing place was taken (the caller gets
/// UNAVAILABLE with a retry delay).
pub const PASSWORD_HASH_REFUSED_TOTAL: &str = "user_password_hash_refused_total";

/// HELP text of svc-user's metrics; the recorder must be installed first.
pub fn describe() {
    metrics::describe_counter!(
        PASSWORD_HASH_REFUSED_TOTAL,
        "Password hashes refused at once because every hashing place was taken (login and register answer UNAVAILABLE)"
    );
    metrics::counter!(PASSWORD_HASH_REFUSED_TOTAL).absolute(0);
}
