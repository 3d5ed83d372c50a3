//! Browser sessions: the cookies `login` and `register` set (HttpOnly, SameSite=Strict,
//! Secure when the BFF is served over TLS), and their names.

/// The access token for cookie mode.
pub const ACCESS_COOKIE: &str = "access_token";
/// The refresh token for cookie mode (sent only to `/graphql`).
pub const REFRESH_COOKIE: &str = "refresh_token";
/// The guest cart's session.
pub const CART_SESSION_COOKIE: &str = "cart_session";
/// The guest cart's session, for clients without cookies.
pub const CART_SESSION_HEADER: &str = "x-cart-session";
/// The header a cookie-authenticated mutation must carry (unless its body is JSON, which
/// browsers cannot send cross-site without a CORS preflight).
pub const CSRF_HEADER: &str = "x-bookstore-csrf";

/// Whether cookies get `Secure` (the BFF is reached over TLS).
#[derive(Debug, Clone, Copy, Default)]
pub struct CookiePolicy {
    pub secure: bool,
}

/// Whether this request's cookies get `Secure`.
pub fn secure(context: &async_graphql::Context<'_>) -> bool {
    match context.data::<CookiePolicy>() {
        Ok(policy) => policy.secure,
        Err(_) => false,
    }
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
pub fn cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{secure}")
}

/// Every `Cookie` header of a request, as one `Cookie` value.
pub fn cookies(headers: &axum::http::HeaderMap) -> String {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The access token a request presents: the bearer header, else the session cookie; and
/// whether it came from the cookie.
pub fn presented_token(headers: &axum::http::HeaderMap) -> Option<(String, bool)> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION)
        && let Some(token) = bearer_token(value)
    {
        return Some((token, false));
    }
    read_cookie(&cookies(headers), ACCESS_COOKIE).map(|token| (token.to_owned(), true))
}

/// The token of an `Authorization: Bearer …` header (the scheme in any case, as the gRPC
/// services read it). `Some("")` when the scheme is Bearer but no usable token follows
/// (nothing, or bytes that are not text): the client meant to sign in, so the token is
/// refused (UNAUTHENTICATED) rather than ignored into a guest's answer. `None` for another
/// scheme, such as a proxy's Basic credentials, which are not ours to judge.
fn bearer_token(value: &axum::http::HeaderValue) -> Option<String> {
    let bytes = value.as_bytes();
    let scheme = bytes.split(|byte| *byte == b' ').next().unwrap_or_default();
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let text = value.to_str().unwrap_or_default();
    let token = text.get(scheme.len()..).unwrap_or_default();
    Some(token.trim().to_owned())
}

/// Reads one cookie from a `Cookie` header.
pub fn read_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        if key == name && !value.is_empty() {
            Some(value)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_and_strict() {
        let set = cookie(ACCESS_COOKIE, "abc", 900, true);
        assert_eq!(
            set,
            "access_token=abc; Path=/; Max-Age=900; HttpOnly; SameSite=Strict; Secure"
        );
        assert_eq!(
            read_cookie("a=1; access_token=abc; b=2", ACCESS_COOKIE),
            Some("abc")
        );
        assert_eq!(read_cookie("a=1", ACCESS_COOKIE), None);
    }

    #[test]
    fn a_bearer_header_without_a_usable_token_is_presented_empty() {
        let presented = |value: &[u8]| {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(
                axum::http::header::AUTHORIZATION,
                axum::http::HeaderValue::from_bytes(value).unwrap(),
            );
            headers.insert(axum::http::header::COOKIE, "access_token=abc".parse().unwrap());
            presented_token(&headers)
        };
        assert_eq!(presented(b"Bearer x.y.z"), Some(("x.y.z".to_owned(), false)));
        assert_eq!(presented(b"bearer  x.y.z "), Some(("x.y.z".to_owned(), false)));
        assert_eq!(presented(b"Bearer"), Some((String::new(), false)));
        assert_eq!(presented("Bearer ünï".as_bytes()), Some((String::new(), false)));
        assert_eq!(presented(b"Basic dXNlcjpwYXNz"), Some(("abc".to_owned(), true)));
    }
}
