# syntax=docker/dockerfile:1
# The one `bookstore` binary, with the storefront built in; the Helm chart (helm/bookstore)
# runs `bookstore serve <service>` per Deployment and `bookstore migrate` as a Job.
#   docker build -t bookstore:0.1.0 .

# Global, so the FROM lines below can use it.
ARG RUST_VERSION=1.94

# The storefront (web/): built here, then embedded into the binary by the BFF (rust-embed).
FROM docker.io/library/node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# Build: no protoc, no OpenSSL needed (protox, rustls); SQLite is compiled in.
FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=web /src/web/dist web/dist
# Cache mounts keep the registry and target dir between builds; the binary is copied out of
# the cached target dir, which does not persist into the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin bookstore \
 && install -D -m 0755 target/release/bookstore /out/bookstore

# Run: glibc and libgcc only (what the binary links), no shell, uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/bookstore /usr/local/bin/bookstore
USER 65532:65532
# The chart sets every listen address to 0.0.0.0 (the binary's defaults are loopback).
EXPOSE 50051 50052 50053 50054 50055 8080
ENTRYPOINT ["/usr/local/bin/bookstore"]
CMD ["--help"]
