//! The storefront: the single-page shop of `web/`, served at `/` so a browser reaches the shop
//! and `/graphql` on one origin (cookies stay SameSite=Strict, no CORS).
//!
//! The built shop (`web/dist`) is embedded in the binary (rust-embed; a debug build reads the
//! folder at request time). A build without it still compiles and answers `/` with how to
//! build the shop. `bff.storefront_dir` serves another build from disk instead.
//!
//! - `index.html` and other top-level files: `no-cache` with an ETag (a new deploy shows at once);
//! - `/assets/*` (content-hashed names): `public, max-age=31536000, immutable`;
//! - GET/HEAD of a path without an extension outside the BFF's own endpoints: `index.html`
//!   (the shop's router takes it from there); anything else unknown is 404;
//! - every answer carries a strict CSP, `nosniff` and `Referrer-Policy: same-origin`
//!   (GraphiQL at `/graphql` keeps its own headers).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use sha2::Digest as _;

/// The shop built into the binary.
#[derive(rust_embed::Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../web/dist"]
#[allow_missing = true]
struct BuiltShop;

/// Where the shop's files come from.
#[derive(Clone)]
pub enum Storefront {
    /// The build embedded in the binary (`web/dist` at compile time).
    Embedded,
    /// A build read from a directory at start.
    Directory(Arc<HashMap<String, StaticFile>>),
}

impl std::fmt::Debug for Storefront {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Storefront::Embedded => formatter.write_str("Storefront::Embedded"),
            Storefront::Directory(files) => write!(formatter, "Storefront::Directory({} files)", files.len()),
        }
    }
}

/// One file of the shop, ready to send.
#[derive(Debug, Clone)]
pub struct StaticFile {
    bytes: Bytes,
    etag: HeaderValue,
    content_type: HeaderValue,
}

impl StaticFile {
    fn new(path: &str, bytes: Bytes, digest: &[u8]) -> Self {
        use std::fmt::Write as _;
        let mut tag = String::with_capacity(32);
        for byte in digest.iter().take(16) {
            let _ = write!(tag, "{byte:02x}");
        }
        // Weak: the same tag whether or not the answer is compressed.
        let etag =
            HeaderValue::from_str(&format!("W/\"{tag}\"")).unwrap_or(HeaderValue::from_static("W/\"0\""));
        StaticFile {
            bytes,
            etag,
            content_type: content_type(path),
        }
    }
}

/// The page a build without the shop answers with.
const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Storefront not built</title>\
<h1>The storefront is not built into this binary</h1>\
<p>Build it, then build the binary again: <code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code>. \
The GraphQL API is at <a href=\"/graphql\">/graphql</a>.</p></html>";

/// The CSP of storefront answers: the shop's own scripts, styles and API only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// Paths the BFF answers itself; an unknown one below them is a 404, never the shop.
const BFF_PATHS: [&str; 5] = ["graphql", "healthz", "readyz", "livez", "metrics"];

impl Storefront {
    /// Reads every file under `directory` (a built shop with an `index.html`).
    ///
    /// # Errors
    /// Fails when the directory cannot be read or has no `index.html`.
    pub fn from_directory(directory: &Path) -> anyhow::Result<Storefront> {
        let mut files = HashMap::new();
        read_tree(directory, directory, &mut files)?;
        if !files.contains_key("index.html") {
            anyhow::bail!("{} has no index.html", directory.display());
        }
        Ok(Storefront::Directory(Arc::new(files)))
    }

    fn get(&self, path: &str) -> Option<StaticFile> {
        match self {
            Storefront::Embedded => {
                let file = BuiltShop::get(path)?;
                let bytes = match file.data {
                    std::borrow::Cow::Borrowed(data) => Bytes::from_static(data),
                    std::borrow::Cow::Owned(data) => Bytes::from(data),
                };
                Some(StaticFile::new(path, bytes, &file.metadata.sha256_hash()))
            }
            Storefront::Directory(files) => files.get(path).cloned(),
        }
    }
}

fn read_tree(root: &Path, directory: &Path, files: &mut HashMap<String, StaticFile>) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(directory).with_context(|| format!("failed to read {}", directory.display()))?;
    for entry in entries {
        let path: PathBuf = entry?.path();
        if path.is_dir() {
            read_tree(root, &path, files)?;
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .context("a file outside the storefront directory")?
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(&path).with_context(|| format!("failed to read {}", path.display()))?;
        let digest = sha2::Sha256::digest(&bytes);
        files.insert(
            relative.clone(),
            StaticFile::new(&relative, Bytes::from(bytes), &digest),
        );
    }
    Ok(())
}

fn content_type(path: &str) -> HeaderValue {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let textual = mime.type_() == mime_guess::mime::TEXT
        || matches!(mime.subtype().as_str(), "javascript" | "json" | "manifest+json")
        || mime.suffix() == Some(mime_guess::mime::XML);
    let value = if textual {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

/// What a request path asks of the shop.
#[derive(Debug, PartialEq, Eq)]
enum Wanted<'a> {
    /// A file by its path below the shop's root.
    File(&'a str),
    /// A route of the shop: `index.html`.
    Route,
    /// Nothing the shop has.
    Nothing,
}

fn wanted(path: &str) -> Wanted<'_> {
    let relative = path.trim_start_matches('/');
    let first = relative.split('/').next().unwrap_or_default();
    if BFF_PATHS.contains(&first) {
        return Wanted::Nothing;
    }
    if relative
        .split('/')
        .any(|segment| segment == ".." || segment == "." || segment.contains('\\'))
    {
        return Wanted::Nothing;
    }
    let last = relative.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        Wanted::File(relative)
    } else {
        Wanted::Route
    }
}

/// The fallback of the BFF's router: the shop's files and routes.
pub async fn serve(State(shop): State<Storefront>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return with_security_headers(StatusCode::NOT_FOUND.into_response());
    }
    let (path, immutable) = match wanted(uri.path()) {
        Wanted::File(path) => (path, path.starts_with("assets/")),
        Wanted::Route => ("index.html", false),
        Wanted::Nothing => return with_security_headers(StatusCode::NOT_FOUND.into_response()),
    };
    let Some(file) = shop.get(path) else {
        let answer = if path == "index.html" {
            let html = HeaderValue::from_static("text/html; charset=utf-8");
            (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, html)], NOT_BUILT).into_response()
        } else {
            StatusCode::NOT_FOUND.into_response()
        };
        return with_security_headers(answer);
    };
    let cache_control = if immutable {
        HeaderValue::from_static("public, max-age=31536000, immutable")
    } else {
        HeaderValue::from_static("no-cache")
    };
    let unchanged = match headers.get(header::IF_NONE_MATCH).map(HeaderValue::to_str) {
        Some(Ok(tags)) => tags
            .split(',')
            .any(|tag| tag.trim().as_bytes() == file.etag.as_bytes()),
        _ => false,
    };
    let mut answer = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else if method == Method::HEAD {
        let mut answer = StatusCode::OK.into_response();
        answer
            .headers_mut()
            .insert(header::CONTENT_LENGTH, file.bytes.len().into());
        answer
    } else {
        file.bytes.clone().into_response()
    };
    let response_headers = answer.headers_mut();
    response_headers.insert(header::CONTENT_TYPE, file.content_type.clone());
    response_headers.insert(header::ETAG, file.etag.clone());
    response_headers.insert(header::CACHE_CONTROL, cache_control);
    with_security_headers(answer)
}

fn with_security_headers(mut answer: Response) -> Response {
    let headers = answer.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_files_routes_or_nothing() {
        assert_eq!(wanted("/"), Wanted::Route);
        assert_eq!(wanted("/books/0c6d"), Wanted::Route);
        assert_eq!(wanted("/account/orders"), Wanted::Route);
        assert_eq!(wanted("/index.html"), Wanted::File("index.html"));
        assert_eq!(
            wanted("/assets/index-4f2a.js"),
            Wanted::File("assets/index-4f2a.js")
        );
        assert_eq!(wanted("/graphql/anything"), Wanted::Nothing);
        assert_eq!(wanted("/metrics"), Wanted::Nothing);
        assert_eq!(wanted("/livez"), Wanted::Nothing);
        assert_eq!(wanted("/assets/../index.html"), Wanted::Nothing);
    }

    #[test]
    fn text_types_say_their_charset() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("assets/a.css"), "text/css; charset=utf-8");
        assert!(
            content_type("assets/a.js")
                .to_str()
                .unwrap()
                .ends_with("; charset=utf-8")
        );
        assert_eq!(content_type("assets/a.png"), "image/png");
    }
}
