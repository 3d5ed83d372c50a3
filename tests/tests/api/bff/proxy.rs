//! The BFF behind a real reverse proxy: Debian's nginx, started here on loopback with its
//! own configuration and prefix, forwarding `X-Forwarded-For`. Clients are told apart by
//! the loopback address they connect from (127.0.0.2, 127.0.0.3, …: all of 127/8 is
//! local); nginx reaches the BFF from 127.0.0.1, the one trusted proxy.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bookstore_tests::{TestMesh, eventually, free_port};
use futures::StreamExt as _;
use serde_json::{Value, json};

use super::mesh_with;

const LOGIN: &str = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }";
const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }";
const PASSWORD: &str = "correct horse battery";

/// nginx in the foreground, stopped when dropped.
struct Nginx {
    _child: tokio::process::Child,
    port: u16,
    _dir: TempDir,
}

/// A directory removed when dropped.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start_nginx(upstream: SocketAddr) -> Nginx {
    let dir = std::env::temp_dir().join(format!("bookstore-nginx-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let config = format!(
        r#"worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  upstream bff {{ server {upstream}; keepalive 32; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://bff;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }}
  }}
}}
"#,
        dir = dir.display()
    );
    let config_file = dir.join("nginx.conf");
    std::fs::write(&config_file, config).unwrap();
    let child = tokio::process::Command::new(nginx_binary())
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(&config_file)
        .args(["-g", "daemon off;"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|error| panic!("nginx (apt-get install nginx): {error}"));
    let listening = eventually(
        Duration::from_secs(10),
        Duration::from_millis(50),
        || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .map(|_| ())
        },
    )
    .await;
    assert!(
        listening.is_ok(),
        "nginx did not listen: {:?}",
        std::fs::read_to_string(dir.join("error.log"))
    );
    Nginx {
        _child: child,
        port,
        _dir: TempDir(dir),
    }
}

fn nginx_binary() -> &'static str {
    if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    }
}

/// A client connecting from `127.0.0.<last>`.
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
    query: &str,
    variables: Value,
) -> (u16, Value) {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .json(&json!({ "query": query, "variables": variables }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

async fn login(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
    email: &str,
    password: &str,
) -> Value {
    post(client, url, headers, LOGIN, json!({ "e": email, "p": password }))
        .await
        .1
}

fn signed_in(body: &Value) -> bool {
    body["data"]["login"]["accessToken"].is_string()
}

async fn proxied_mesh(rate_per_address: u32) -> (TestMesh, Nginx) {
    let mesh = mesh_with(move |config| {
        config.bff.trusted_proxies = vec!["127.0.0.1/32".to_owned()];
        config.bff.rate_per_address = rate_per_address;
        config.bff.rate_burst = rate_per_address;
    })
    .await;
    let nginx = start_nginx(mesh.address(platform::ServiceName::Bff)).await;
    (mesh, nginx)
}

#[tokio::test]
async fn behind_nginx_failed_logins_count_per_client_address_and_spoofed_headers_change_nothing() {
    // 70 logins from X stay inside its request budget: only the throttle answers.
    let (mesh, nginx) = proxied_mesh(200).await;
    let proxied = format!("http://127.0.0.1:{}/graphql", nginx.port);
    let direct = format!("{}/graphql", mesh.bff_url());
    let (x, y) = (client_from(2), client_from(3));
    let (alice, bob) = (
        format!("a-{}@proxy.test", uuid::Uuid::new_v4().simple()),
        format!("b-{}@proxy.test", uuid::Uuid::new_v4().simple()),
    );
    for email in [&alice, &bob] {
        let input = json!({ "input": { "email": email, "password": PASSWORD, "name": "Shopper" } });
        let (_, body) = post(&x, &proxied, &[], REGISTER, input).await;
        assert!(body["data"]["register"]["accessToken"].is_string(), "{body}");
    }

    // A spoofing client writes Y's address itself; nginx appends X's, which wins.
    let spoof = [("x-forwarded-for", "127.0.0.3")];
    let mut refused = 0;
    for attempt in 0..60 {
        let body = login(&x, &proxied, &spoof, &alice, &format!("guess {attempt}")).await;
        match code(&body) {
            "UNAUTHENTICATED" => {}
            "UNAVAILABLE" => {
                let seconds = body["errors"][0]["extensions"]["retryAfterSeconds"].as_u64();
                assert!(matches!(seconds, Some(1..=900)), "{body}");
                refused += 1;
            }
            other => panic!("attempt {attempt}: {other}: {body}"),
        }
    }
    assert_eq!(refused, 55, "(A, X) is refused after 5 failures");
    let body = login(&x, &proxied, &[], &alice, PASSWORD).await;
    assert_eq!(
        code(&body),
        "UNAVAILABLE",
        "(A, X) is refused, even with the password: {body}"
    );
    assert!(
        signed_in(&login(&y, &proxied, &[], &alice, PASSWORD).await),
        "A signs in from Y"
    );
    assert!(
        signed_in(&login(&x, &proxied, &[], &bob, PASSWORD).await),
        "B signs in from X"
    );

    // Straight to the BFF from an untrusted peer, claiming to be Y: counted for the peer.
    let untrusted = client_from(9);
    let claims = [("x-forwarded-for", "127.0.0.3"), ("forwarded", "for=127.0.0.3")];
    for attempt in 0..6 {
        let body = login(&untrusted, &direct, &claims, &bob, &format!("guess {attempt}")).await;
        assert!(matches!(code(&body), "UNAUTHENTICATED" | "UNAVAILABLE"), "{body}");
    }
    let body = login(&untrusted, &direct, &claims, &bob, PASSWORD).await;
    assert_eq!(
        code(&body),
        "UNAVAILABLE",
        "the untrusted peer itself is refused: {body}"
    );
    assert!(
        signed_in(&login(&y, &proxied, &[], &bob, PASSWORD).await),
        "Y was never charged"
    );
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn behind_nginx_a_storm_from_one_address_is_limited_and_another_address_is_not() {
    let (mesh, nginx) = proxied_mesh(50).await;
    let proxied = format!("http://127.0.0.1:{}/graphql", nginx.port);
    let direct = format!("{}/graphql", mesh.bff_url());
    let (stormy, calm) = (client_from(4), client_from(5));
    let query = "{ __typename }";

    let started = Instant::now();
    let statuses: Vec<u16> = futures::stream::iter(0..300)
        .map(|_| {
            let (client, url) = (stormy.clone(), proxied.clone());
            async move { post(&client, &url, &[], query, json!({})).await.0 }
        })
        .buffer_unordered(50)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let limited = statuses.iter().filter(|status| **status == 429).count();
    println!("300 requests from one address in {elapsed:?}: {limited} answered 429");
    assert!(limited > 0, "none of 300 limited in {elapsed:?}");
    assert!(
        statuses.iter().all(|status| matches!(status, 200 | 429)),
        "{statuses:?}"
    );

    // Right after, through the same nginx: another address is not limited.
    for _ in 0..30 {
        assert_eq!(post(&calm, &proxied, &[], query, json!({})).await.0, 200);
    }
    // Headers from an untrusted peer claiming the stormy (limited) address change nothing:
    // that peer has its own budget.
    let untrusted = client_from(6);
    let claims = [("x-forwarded-for", "127.0.0.4")];
    for _ in 0..30 {
        assert_eq!(
            post(&untrusted, &direct, &claims, query, json!({})).await.0,
            200,
            "not charged to 127.0.0.4"
        );
    }
    mesh.shutdown().await.unwrap();
}
