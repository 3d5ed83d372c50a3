//! What Kubernetes does to the mesh, on the real binary: probes during a store outage
//! (liveness must not restart a pod for a database that is away, readiness must take it out
//! of its Service and bring it back), and termination (SIGTERM while traffic flows).

mod drain;
mod outage;
