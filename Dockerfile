# food-mcp in a container: `docker build -t food-mcp . && docker run -p 3000:3000 -v food-data:/data \
#   -e FOOD_MCP__PUBLIC_URL=https://food.example.com food-mcp`
# The first start prints the owner password (see `docker logs`); set your own with
# `docker exec -i <container> food-mcp owner set-password`.
# Not built by CI: the project's machines have no Docker engine.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin food-mcp

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data food-mcp && mkdir -p /data && chown food-mcp /data
COPY --from=build /src/target/release/food-mcp /usr/local/bin/food-mcp
USER food-mcp
WORKDIR /data
# Listen on every interface inside the container; the public URL decides issuer and allowed Hosts.
ENV FOOD_MCP__BIND=0.0.0.0:3000 \
    FOOD_MCP__DATABASE_PATH=/data/food-mcp.db
EXPOSE 3000
VOLUME ["/data"]
ENTRYPOINT ["food-mcp"]
