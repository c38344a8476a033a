#!/usr/bin/env python3
"""Upstream faults against a built food-mcp binary: RSS under a huge upstream body, and how long an
expired lookup takes while the upstream is down. Loopback only: a mock USDA API runs in this script.

Usage: python3 bench/upstream_faults.py path/to/food-mcp [--huge-mb 500] [--timeout 2s] [--lookups 10]

Each case starts its own server (fresh database, no auth, USDA entries expiring at once), caches
food 173944 from the mock, then switches the mock's behaviour:
  huge-length   a 200 with Content-Length: N MB of whitespace
  huge-chunked  a 200 with N MB of chunked whitespace and no length
  blackhole     accepts the request and never answers (the outage: every request times out)
and reports the server's peak and current RSS (VmHWM, VmRSS) and each lookup's latency and freshness.
"""

import argparse
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BANANA = open(os.path.join(ROOT, "tests/fixtures/usda/food-173944-sr-legacy-banana.json"), "rb").read()
MODE = {"body": "good", "huge_mb": 500}
PIECE = b" " * (1024 * 1024)


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def do_GET(self):
        mode = MODE["body"]
        try:
            if mode == "good":
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(BANANA)))
                self.end_headers()
                self.wfile.write(BANANA)
            elif mode == "huge-length":
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(MODE["huge_mb"] * len(PIECE)))
                self.end_headers()
                for _ in range(MODE["huge_mb"]):
                    self.wfile.write(PIECE)
            elif mode == "huge-chunked":
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for _ in range(MODE["huge_mb"]):
                    self.wfile.write(b"%x\r\n" % len(PIECE) + PIECE + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            else:  # blackhole
                time.sleep(3600)
        except (BrokenPipeError, ConnectionResetError):
            pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields["VmHWM"], fields["VmRSS"]


def get_nutrition(port, food_id, timeout=120):
    body = json.dumps({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "get_nutrition",
                   "arguments": {"foodId": food_id, "source": "usda", "amount": 100, "unit": "g"}},
    }).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/mcp", data=body, headers={
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2025-06-18",
    })
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.load(response)
    elapsed = time.monotonic() - started
    result = answer["result"]
    if result.get("isError"):
        return elapsed, "error: " + result["content"][0]["text"][:110]
    content = result["structuredContent"]
    warning = content["warnings"][0][:110] if content["warnings"] else ""
    return elapsed, f'{content["dataFreshness"]} {warning}'.strip()


def serve(binary, mock_port, timeout):
    port = free_port()
    work = tempfile.mkdtemp()
    env = dict(os.environ,
               FOOD_MCP__BIND=f"127.0.0.1:{port}",
               FOOD_MCP__PUBLIC_URL=f"http://127.0.0.1:{port}",
               FOOD_MCP__DATABASE_PATH=os.path.join(work, "food.db"),
               FOOD_MCP__AUTH__ENABLED="false",
               FOOD_MCP__CATALOG__AUTO_IMPORT="false",
               FOOD_MCP__METRICS__BIND="",
               FOOD_MCP__USDA__BASE_URL=f"http://127.0.0.1:{mock_port}",
               FOOD_MCP__USDA__TIMEOUT=timeout,
               FOOD_MCP__CACHE__USDA_TTL="0s",
               RUST_LOG="food_mcp=error")
    process = subprocess.Popen([binary, "serve"], env=env, cwd=work,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return process, port, work
        except OSError:
            time.sleep(0.05)
    process.kill()
    shutil.rmtree(work, ignore_errors=True)
    sys.exit("the server did not come up")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--huge-mb", type=int, default=500)
    parser.add_argument("--timeout", default="2s")
    parser.add_argument("--lookups", type=int, default=10)
    args = parser.parse_args()
    MODE["huge_mb"] = args.huge_mb
    mock = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    mock.daemon_threads = True
    threading.Thread(target=mock.serve_forever, daemon=True).start()
    mock_port = mock.server_address[1]

    for case in ["huge-length", "huge-chunked", "blackhole"]:
        MODE["body"] = "good"
        process, port, work = serve(args.binary, mock_port, args.timeout)
        try:
            get_nutrition(port, "173944")
            print(f"== {case} (baseline VmHWM {status(process.pid)[0]}, upstream timeout {args.timeout})")
            MODE["body"] = case
            lookups = 1 if case.startswith("huge") else args.lookups
            for i in range(lookups):
                elapsed, outcome = get_nutrition(port, "173944")
                print(f"  expired lookup {i + 1}: {elapsed * 1000:8.1f} ms  {outcome}")
            if case == "blackhole":
                elapsed, outcome = get_nutrition(port, "171265")
                print(f"  uncached lookup: {elapsed * 1000:8.1f} ms  {outcome}")
            hwm, rss = status(process.pid)
            print(f"  server VmHWM {hwm}, VmRSS {rss}")
        finally:
            process.terminate()
            process.wait()
            shutil.rmtree(work, ignore_errors=True)
    mock.shutdown()


if __name__ == "__main__":
    main()
