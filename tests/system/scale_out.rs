//! Traffic follows pods: every caller reaches inventory through one DNS name, served by a
//! real DNS server (Debian's dnsmasq, started here on loopback) that first answers with one
//! replica's address. Under steady checkouts, two more addresses are added: within 10 s each
//! new replica serves at least 20 % of the Reserve calls. Then the first address is removed:
//! that replica stops getting calls, and no checkout fails at any point.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bookstore_tests::free_port;
use bookstore_tests::stack::metrics::grpc_requests;
use bookstore_tests::stack::{Stack, shop::Shopper};
use platform::ServiceName;
use tokio::process::{Child, Command};

use crate::support::{admin_token, damage, report, shoppers};

const NAME: &str = "inventory.mesh.test";
const INTERVAL_MS: u64 = 500;

/// dnsmasq answering `NAME` from a hosts file it reads again on SIGHUP.
struct Dns {
    child: Child,
    hosts: PathBuf,
    port: u16,
}

impl Dns {
    async fn start(addresses: &[IpAddr]) -> Dns {
        let dir = std::env::temp_dir().join(format!("bookstore-dns-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let hosts = dir.join("hosts");
        let port = free_port();
        let dns = Dns {
            child: Command::new("dnsmasq")
                .args([
                    "--keep-in-foreground",
                    &format!("--port={port}"),
                    "--listen-address=127.0.0.1",
                    "--bind-interfaces",
                    "--no-resolv",
                    // Authoritative for the test domain, as a cluster DNS is: an AAAA query
                    // gets "no such record", not REFUSED for want of an upstream.
                    "--local=/mesh.test/",
                    "--no-hosts",
                    &format!("--addn-hosts={}", hosts.display()),
                    // Answers are never cached downstream: each lookup sees the file.
                    "--local-ttl=0",
                    "--pid-file=",
                    "--user=root",
                    "--log-facility=-",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("dnsmasq (Debian's dnsmasq-base) starts"),
            hosts,
            port,
        };
        dns.write(addresses);
        dns
    }

    fn write(&self, addresses: &[IpAddr]) {
        let lines: String = addresses
            .iter()
            .map(|address| format!("{address} {NAME}\n"))
            .collect();
        std::fs::write(&self.hosts, lines).unwrap();
    }

    /// Serves `addresses` from now on.
    fn serve(&self, addresses: &[IpAddr]) {
        self.write(addresses);
        let pid = self.child.id().expect("dnsmasq runs").to_string();
        let status = std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// Reserve calls each inventory replica has served so far.
async fn reserves(stack: &Stack) -> Vec<u64> {
    let mut counts = Vec::new();
    for replica in stack.replicas(ServiceName::Inventory) {
        counts.push(grpc_requests(replica.metrics_port.unwrap_or_default(), "Reserve").await);
    }
    counts
}

fn delta(after: &[u64], before: &[u64]) -> Vec<u64> {
    after
        .iter()
        .zip(before)
        .map(|(after, before)| after - before)
        .collect()
}

/// Checkouts by each shopper, one after another, until `stop`.
fn checkouts(
    stack: &Stack,
    shoppers: Vec<Shopper>,
    book: &str,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
) -> Vec<tokio::task::JoinHandle<Vec<String>>> {
    shoppers
        .into_iter()
        .map(|shopper| {
            let (graphql, book, stop, done) = (
                stack.graphql().clone(),
                book.to_owned(),
                Arc::clone(&stop),
                Arc::clone(&done),
            );
            tokio::spawn(async move {
                let mut failures = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    if let Err(error) = graphql.fill_cart(&shopper, &book, 1).await {
                        failures.push(format!("fill cart: {error:#}"));
                        continue;
                    }
                    let key = uuid::Uuid::new_v4().to_string();
                    match graphql.place_order(&shopper, &key).await {
                        Ok(reply) if reply.data()["placeOrder"]["status"] == "CONFIRMED" => {
                            done.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(reply) => failures.push(format!("place order: {} {}", reply.status, reply.body)),
                        Err(error) => failures.push(format!("place order: {error}")),
                    }
                }
                failures
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_inventory_replicas_get_their_share_within_ten_seconds_and_a_removed_one_drains() {
    let started = Instant::now();
    let hosts: Vec<IpAddr> = (2..=4).map(|last| IpAddr::from([127, 0, 0, last])).collect();
    let dns = Dns::start(&hosts[..1]).await;
    let port = free_port();
    let mut stack = Stack::builder(env!("CARGO_BIN_EXE_bookstore"))
        .replicas_on(ServiceName::Inventory, port, hosts.clone())
        .setting(
            "BOOKSTORE_INVENTORY__ENDPOINTS",
            format!("[\"http://{NAME}:{port}\"]"),
        )
        .setting(
            "BOOKSTORE_DISCOVERY__DNS_SERVER",
            format!("127.0.0.1:{}", dns.port),
        )
        .setting("BOOKSTORE_DISCOVERY__RESOLVE_INTERVAL_MS", INTERVAL_MS)
        // Every checkout must get through: shedding is the overload suite's subject.
        .setting("BOOKSTORE_BFF__MAX_CONCURRENT_REQUESTS", 64)
        .setting("BOOKSTORE_BFF__RATE_PER_ADDRESS", 100_000)
        .setting("BOOKSTORE_BFF__RATE_BURST", 100_000)
        .setting("BOOKSTORE_AUTH__ARGON2_MEMORY_KIB", 1024)
        .setting("BOOKSTORE_AUTH__ARGON2_ITERATIONS", 1)
        .start()
        .await
        .unwrap();
    let admin = admin_token(&stack).await;
    let book = stack
        .graphql()
        .create_book(&admin, "Scale out", 999, 1_000_000)
        .await
        .unwrap();
    let shoppers = shoppers(&stack, "scale-out", 6).await;
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let workers = checkouts(&stack, shoppers, &book, Arc::clone(&stop), Arc::clone(&done));

    // One address: only inventory-1 reserves.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let before_add = reserves(&stack).await;
    assert!(before_add[0] > 0, "inventory-1 served: {before_add:?}");
    assert_eq!(&before_add[1..], &[0, 0], "only the address in DNS is called");

    // Three addresses: measured over the 10 s that follow, after the first 2 s.
    dns.serve(&hosts);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let from = reserves(&stack).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let to = reserves(&stack).await;
    let added = delta(&to, &from);
    let total: u64 = added.iter().sum();
    let shares: Vec<f64> = added
        .iter()
        .map(|count| *count as f64 / total.max(1) as f64)
        .collect();

    // The first address goes away: inventory-1 drains and no checkout fails.
    dns.serve(&hosts[1..]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let drained_from = reserves(&stack).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let drained_to = reserves(&stack).await;
    let after_removal = delta(&drained_to, &drained_from);

    stop.store(true, Ordering::SeqCst);
    let mut failures = Vec::new();
    for worker in workers {
        failures.extend(worker.await.unwrap());
    }
    let checkouts = done.load(Ordering::SeqCst);
    report(
        "scale-out",
        started,
        &format!(
            "{checkouts} checkouts, {} failed; Reserve shares with three addresses {:.0} % / {:.0} % / {:.0} % \
             of {total}; after removing inventory-1: {after_removal:?}",
            failures.len(),
            shares[0] * 100.0,
            shares[1] * 100.0,
            shares[2] * 100.0,
        ),
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        shares[1] >= 0.2 && shares[2] >= 0.2,
        "each new replica serves >= 20 %: {shares:?}"
    );
    assert_eq!(
        after_removal[0], 0,
        "the removed replica drained: {after_removal:?}"
    );
    assert!(after_removal[1] > 0 && after_removal[2] > 0, "{after_removal:?}");
    let damage = damage(&mut stack).await;
    assert!(damage.is_empty(), "{}", damage.join("\n"));
}
