# food-mcp in a container (see README, "Docker"):
#   docker build -t food-mcp .
#   docker run -d --name food-mcp -p 3000:3000 -v food-data:/data \
#     -e FOOD_MCP__PUBLIC_URL=https://food.example.com food-mcp
# The first start writes the owner password to /data/owner-password (never to the log):
#   docker exec food-mcp cat /data/owner-password
# and imports the USDA catalog in the background (progress in `docker logs`).
# The process runs as uid 999 (gid 999): a bind-mounted data folder must be writable by it
# (`sudo chown 999:999 ./data`), or SQLite answers "unable to open database file".
# Not built by CI: the project's machines have no Docker engine.

# cargo-chef splits the build so that dependencies get a layer of their own, rebuilt only when
# Cargo.toml or Cargo.lock change (not at every source edit).
FROM rust:1.95-slim-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json --bin food-mcp
COPY . .
RUN cargo build --release --locked --bin food-mcp

FROM debian:bookworm-slim
# A fixed uid/gid (999), so bind-mount ownership can be documented and set once.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 999 food-mcp \
    && useradd --system --uid 999 --gid 999 --home-dir /data --no-create-home food-mcp \
    && mkdir -p /data && chown 999:999 /data
COPY --from=build /src/target/release/food-mcp /usr/local/bin/food-mcp
USER 999:999
WORKDIR /data
# Every interface inside the container: the public URL decides issuer and allowed Hosts, and
# publishing a port decides who reaches it. Metrics (9464) have no token: publish them only on
# a private interface, e.g. `-p 127.0.0.1:9464:9464`.
ENV FOOD_MCP__BIND=0.0.0.0:3000 \
    FOOD_MCP__METRICS__BIND=0.0.0.0:9464 \
    FOOD_MCP__DATABASE_PATH=/data/food-mcp.db
EXPOSE 3000 9464
VOLUME ["/data"]
# `food-mcp health` asks the server on loopback and exits 0 when it answers ready.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["food-mcp", "health"]
ENTRYPOINT ["food-mcp"]
