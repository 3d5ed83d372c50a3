//! Which address a request comes from: the TCP peer, unless the peer is one of
//! `bff.trusted_proxies`; then the nearest address a trusted proxy recorded that is not
//! itself a trusted proxy, read from `Forwarded` (RFC 7239, `for=`) or else
//! `X-Forwarded-For`, from the right. Entries left of that are what the client wrote and
//! are never believed. The rate limiter, the login throttle (the address svc-user counts
//! failures for) and the request's log span all use this address.
//!
//! Hand-written rather than `axum-client-ip`: its `RightmostXForwardedFor` and
//! `RightmostForwarded` take the single rightmost entry whatever the peer is, with no list
//! of trusted proxies to check the peer against or to walk past (two proxies in a row, an
//! ingress behind a load balancer, would give the first proxy's address).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use tracing::Instrument as _;

/// The most forwarded entries read from the right; a header longer than any real chain of
/// proxies costs no more than this.
const MAX_HOPS: usize = 32;

/// The client address of a request, as a request extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
}

impl TrustedProxies {
    /// Trusts peers inside `networks`.
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self { networks }
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.networks.iter().any(|network| network.contains(&address))
    }

    /// Returns the client address of a request from `peer` with `headers`.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops = match forwarded_for(headers) {
            Some(hops) => hops,
            None => x_forwarded_for(headers),
        };
        // Right to left: the rightmost entry was written by the peer, a trusted proxy. An
        // entry that does not parse (`unknown`, an obfuscated name) ends the walk: nothing
        // left of it can be attributed, so the last trusted hop is the client.
        let mut client = peer;
        for hop in hops.iter().rev().take(MAX_HOPS) {
            let Some(address) = hop else {
                return client;
            };
            client = canonical(*address);
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

/// An IPv4 address mapped into IPv6 (a dual-stack listener) is the IPv4 address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => address,
        },
        IpAddr::V4(_) => address,
    }
}

/// Parses one CIDR or a single address (a host route) from `bff.trusted_proxies`.
///
/// # Errors
/// The entry as given, when it is neither.
pub fn parse_network(entry: &str) -> Result<IpNet, String> {
    let entry = entry.trim();
    if let Ok(network) = entry.parse::<IpNet>() {
        return Ok(network.trunc());
    }
    entry
        .parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("`{entry}` is not a CIDR (10.0.0.0/8) or an address"))
}

/// The `for=` addresses of every `Forwarded` header, in order (`None` for one that is not
/// an address), or `None` when there is no `Forwarded` header.
fn forwarded_for(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let mut values = headers.get_all("forwarded").iter().peekable();
    values.peek()?;
    let mut hops = Vec::new();
    for value in values {
        let Ok(text) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for element in text.split(',') {
            let mut address = None;
            for pair in element.split(';') {
                let Some((name, value)) = pair.split_once('=') else {
                    continue;
                };
                if name.trim().eq_ignore_ascii_case("for") {
                    address = Some(node_address(value.trim()));
                }
            }
            if let Some(address) = address {
                hops.push(address);
            }
        }
    }
    Some(hops)
}

/// A `Forwarded` node: `192.0.2.1`, `"192.0.2.1:4711"`, `"[2001:db8::1]:4711"`, `unknown`.
fn node_address(node: &str) -> Option<IpAddr> {
    let node = node.trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        let (address, _port) = rest.split_once(']')?;
        return address.parse().ok();
    }
    if let Ok(address) = node.parse() {
        return Some(address);
    }
    let (address, _port) = node.rsplit_once(':')?;
    address.parse().ok()
}

/// Every `X-Forwarded-For` entry, in order.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for entry in text.split(',') {
            hops.push(node_address(entry.trim()));
        }
    }
    hops
}

/// The middleware: puts the [`ClientAddress`] in the request's extensions and runs the
/// rest of the request in a span that carries it.
pub async fn resolve(
    State(trusted): State<TrustedProxies>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = trusted.client_address(peer.ip(), request.headers());
    request.extensions_mut().insert(ClientAddress(client));
    let span = tracing::info_span!("bff.request", client_address = %client);
    next.run(request).instrument(span).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    fn trusted(networks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(
            networks
                .iter()
                .map(|entry| parse_network(entry).unwrap())
                .collect(),
        )
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_writes() {
        let proxies = trusted(&["10.0.0.0/8"]);
        let spoofed = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(
            proxies.client_address(ip("203.0.113.9"), &spoofed),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client_address(ip("127.0.0.1"), &spoofed),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let proxies = trusted(&["10.0.0.0/8", "192.168.1.1"]);
        // The client wrote 1.1.1.1 itself; nginx appended what it saw.
        let chain = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.7, 192.168.1.1")]);
        assert_eq!(proxies.client_address(ip("10.1.2.3"), &chain), ip("198.51.100.7"));
        let forwarded = headers(&[
            ("forwarded", "for=1.1.1.1"),
            (
                "forwarded",
                "for=\"[2001:db8::7]:4711\";proto=https, for=10.9.9.9",
            ),
            ("x-forwarded-for", "7.7.7.7"),
        ]);
        assert_eq!(
            proxies.client_address(ip("10.1.2.3"), &forwarded),
            ip("2001:db8::7")
        );
        assert_eq!(
            proxies.client_address(ip("::ffff:10.1.2.3"), &chain),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_chain_of_only_proxies_or_an_unknown_hop_stops_at_the_last_trusted_one() {
        let proxies = trusted(&["10.0.0.0/8"]);
        assert_eq!(
            proxies.client_address(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        let inner = headers(&[("x-forwarded-for", "10.0.0.2")]);
        assert_eq!(proxies.client_address(ip("10.0.0.1"), &inner), ip("10.0.0.2"));
        let unknown = headers(&[("forwarded", "for=1.2.3.4, for=unknown, for=10.0.0.3")]);
        assert_eq!(proxies.client_address(ip("10.0.0.1"), &unknown), ip("10.0.0.3"));
    }

    #[test]
    fn trusted_proxy_entries_are_cidrs_or_addresses() {
        assert_eq!(parse_network("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_network("::1").unwrap().to_string(), "::1/128");
        assert!(parse_network("10.0.0.0/33").unwrap_err().contains("10.0.0.0/33"));
        assert!(parse_network("proxy.local").is_err());
    }

    proptest! {
        #[test]
        fn any_header_text_resolves_without_panicking(forwarded in ".{0,200}", xff in ".{0,200}") {
            let proxies = trusted(&["0.0.0.0/0", "::/0"]);
            let mut map = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&forwarded) {
                map.insert("forwarded", value);
            }
            if let Ok(value) = HeaderValue::from_str(&xff) {
                map.insert("x-forwarded-for", value);
            }
            let _ = proxies.client_address(ip("127.0.0.1"), &map);
        }
    }
}
