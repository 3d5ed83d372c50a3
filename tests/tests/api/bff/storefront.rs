//! The shop served by the BFF over real HTTP: a built shop from `bff.storefront_dir` (a
//! fixture here, so the test holds whether or not `web/dist` is built), its cache rules, the
//! SPA fallback, and the headers every storefront answer carries.

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH};

use super::mesh_with;

const INDEX: &str = "<!doctype html><html lang=\"en\"><title>Bookstore</title><div id=\"app\"></div>\
<script type=\"module\" src=\"/assets/index-4f2a9c.js\"></script></html>";

fn built_shop() -> std::path::PathBuf {
    let directory = std::env::temp_dir()
        .join("bookstore-tests")
        .join(format!("shop-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(directory.join("assets")).unwrap();
    std::fs::write(directory.join("index.html"), INDEX).unwrap();
    std::fs::write(
        directory.join("assets/index-4f2a9c.js"),
        "export const shop = 'books';\n".repeat(200),
    )
    .unwrap();
    std::fs::write(directory.join("assets/index-77e0b1.css"), "body{margin:0}").unwrap();
    std::fs::write(
        directory.join("favicon.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .unwrap();
    directory
}

fn header(response: &reqwest::Response, name: impl reqwest::header::AsHeaderName) -> &str {
    match response.headers().get(name) {
        Some(value) => value.to_str().unwrap(),
        None => "",
    }
}

fn assert_storefront_headers(response: &reqwest::Response, what: &str) {
    let policy = header(response, "content-security-policy");
    for directive in [
        "default-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(
            policy.contains(directive),
            "{what}: CSP {policy:?} lacks {directive}"
        );
    }
    assert_eq!(header(response, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header(response, "referrer-policy"), "same-origin", "{what}");
}

#[tokio::test]
async fn the_bff_serves_the_shop_with_its_cache_rules_and_routes_back_to_index() {
    let shop = built_shop();
    let directory = shop.clone();
    let mesh = mesh_with(move |config| config.bff.storefront_dir = Some(directory)).await;
    let base = mesh.bff_url().trim_end_matches("/graphql").to_owned();
    let http = reqwest::Client::new();

    // The shop's root and every route of it: index.html, never cached without revalidation.
    let mut etags = Vec::new();
    for route in ["/", "/books/4c1b6f9e", "/account/orders", "/checkout"] {
        let response = http.get(format!("{base}{route}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{route}");
        assert_eq!(
            header(&response, CONTENT_TYPE),
            "text/html; charset=utf-8",
            "{route}"
        );
        assert_eq!(header(&response, CACHE_CONTROL), "no-cache", "{route}");
        assert_storefront_headers(&response, route);
        etags.push(header(&response, ETAG).to_owned());
        assert_eq!(response.text().await.unwrap(), INDEX, "{route}");
    }
    assert!(!etags[0].is_empty());
    assert!(etags.iter().all(|etag| *etag == etags[0]), "{etags:?}");

    // Revalidation: the same ETag gets 304 with no body.
    let revalidated = http
        .get(format!("{base}/"))
        .header(IF_NONE_MATCH, &etags[0])
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&revalidated, ETAG), etags[0]);
    assert!(revalidated.bytes().await.unwrap().is_empty());

    // Hashed assets are immutable, typed with their charset, and compressed when asked.
    let script = http
        .get(format!("{base}/assets/index-4f2a9c.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert_eq!(
        header(&script, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&script, CONTENT_TYPE), "text/javascript; charset=utf-8");
    assert_eq!(header(&script, CONTENT_ENCODING), "gzip");
    assert_storefront_headers(&script, "script");
    let compressed = script.bytes().await.unwrap().len();
    assert!(
        compressed < 1_000,
        "6 kB of repeated text compressed to {compressed} bytes"
    );
    let style = http
        .get(format!("{base}/assets/index-77e0b1.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&style, CONTENT_TYPE), "text/css; charset=utf-8");
    let icon = http.get(format!("{base}/favicon.svg")).send().await.unwrap();
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(
        header(&icon, CACHE_CONTROL),
        "no-cache",
        "not hashed: revalidated"
    );

    // HEAD answers like GET without a body.
    let head = http.head(format!("{base}/cart")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header(&head, CONTENT_TYPE), "text/html; charset=utf-8");

    // Unknown files are 404, never the shop; so are other methods and the BFF's own paths.
    for (method, path) in [
        (reqwest::Method::GET, "/x.js"),
        (reqwest::Method::GET, "/assets/index-000000.js"),
        (reqwest::Method::GET, "/graphql/nothing"),
        (reqwest::Method::GET, "/metrics/more"),
        (reqwest::Method::POST, "/"),
        (reqwest::Method::DELETE, "/books/1"),
    ] {
        let response = http
            .request(method.clone(), format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("<div id=\"app\">"),
            "{method} {path} answered with the shop"
        );
    }

    // The BFF's own endpoints keep their answers and carry no storefront CSP: GraphiQL has its
    // own needs (inline scripts), and the probes are not pages.
    let graphiql = http
        .get(format!("{base}/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(graphiql.status(), StatusCode::OK);
    assert!(graphiql.headers().get("content-security-policy").is_none());
    let healthz = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(healthz.status(), StatusCode::OK);
    assert!(healthz.headers().get("content-security-policy").is_none());

    mesh.shutdown().await.unwrap();
    std::fs::remove_dir_all(shop).unwrap();
}
