"""The official MCP Python SDK's OAuth client (PyPI `mcp`) against a running food-mcp, end to end:
401 -> discovery -> dynamic registration -> consent form (wrong password, then the right one) ->
token exchange -> tool calls -> refresh (the SDK's own refresh, once the access token has expired)
-> tool call with the refreshed token.

    FOOD_MCP_BASE_URL=http://127.0.0.1:PORT FOOD_MCP_OWNER_PASSWORD=... python py_client.py

Prints each step; exits 1 on the first failure.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import secrets
import sys
import time
import traceback
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

BASE = os.environ.get("FOOD_MCP_BASE_URL", "")
PASSWORD = os.environ.get("FOOD_MCP_OWNER_PASSWORD", "")
MCP_URL = f"{BASE}/mcp"
STARTED = time.monotonic()
_step = 0


def step(text: str) -> None:
    global _step
    _step += 1
    print(f"py  [{_step:2}] {text}", flush=True)


class Failure(Exception):
    pass


def check(cond: Any, what: str) -> None:
    if not cond:
        raise Failure(what)


def close_to(actual: float, expected: float, what: str) -> None:
    check(abs(actual - expected) < 1e-6, f"{what}: got {actual}, want {expected}")


@dataclass
class Seen:
    method: str
    path: str
    status: int
    authorization: str | None
    body: str | None
    www_authenticate: str | None


@dataclass
class Trace:
    """Every request the SDK's HTTP client sends (OAuth endpoints and /mcp), with its answer."""

    entries: list[Seen] = field(default_factory=list)

    async def on_response(self, response: httpx2.Response) -> None:
        request = response.request
        body = request.content.decode() if request.content else None
        self.entries.append(
            Seen(
                request.method,
                request.url.path,
                response.status_code,
                request.headers.get("authorization"),
                body,
                response.headers.get("www-authenticate"),
            )
        )

    def since(self, mark: int) -> list[Seen]:
        return self.entries[mark:]

    @staticmethod
    def describe(entries: list[Seen]) -> str:
        return ", ".join(f"{e.method} {e.path} -> {e.status}" for e in entries)


class MemoryStorage:
    """The SDK's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None
        self.saved: list[OAuthToken] = []

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.saved.append(tokens)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


# ---- the browser: the consent form ---------------------------------------------------------------

INPUT = re.compile(r"<input\b[^>]*>")


def attr(tag: str, name: str) -> str | None:
    m = re.search(rf'\s{name}="([^"]*)"', tag)
    return html.unescape(m.group(1)) if m else None


def parse_form(page: str, page_url: str) -> tuple[str, str, dict[str, str], bool]:
    form = re.search(r"<form\b[^>]*>", page)
    check(form, f"no <form> on the consent page: {page[:300]}")
    assert form is not None
    action = urljoin(page_url, attr(form.group(0), "action") or "")
    method = (attr(form.group(0), "method") or "get").lower()
    hidden = {}
    for tag in INPUT.findall(page):
        if attr(tag, "type") == "hidden":
            hidden[attr(tag, "name") or ""] = attr(tag, "value") or ""
    has_password = re.search(r'<input\b[^>]*type="password"[^>]*name="password"', page) is not None
    return action, method, hidden, has_password


class Browser:
    """Plays the owner's browser: opens the authorization URL the SDK hands to its redirect handler,
    submits the consent form, and gives the SDK's callback handler the redirect's parameters."""

    def __init__(self, callback_url: str) -> None:
        self.callback_url = callback_url
        self.authorization_url: str | None = None
        self.result: AuthorizationCodeResult | None = None

    async def redirect_handler(self, authorization_url: str) -> None:
        self.authorization_url = authorization_url
        query = parse_qs(urlparse(authorization_url).query)
        step(
            "authorization URL: "
            + authorization_url.split("?")[0]
            + f' scope="{query.get("scope", [""])[0]}" resource={query.get("resource", [""])[0]}'
        )
        for p in ("client_id", "redirect_uri", "state", "code_challenge", "resource", "scope"):
            check(query.get(p), f"authorization URL carries {p}")
        check(query.get("code_challenge_method") == ["S256"], "S256")
        check(query["resource"] == [MCP_URL], f"resource is {MCP_URL}: {query['resource']}")
        async with httpx2.AsyncClient(follow_redirects=False, timeout=30) as http:
            page = await http.get(authorization_url)
            check(page.status_code == 200, f"GET /authorize answered {page.status_code}: {page.text[:300]}")
            check(http.cookies, "GET /authorize set no cookie")
            action, method, hidden, has_password = parse_form(page.text, authorization_url)
            check(method == "post" and hidden.get("csrf") and has_password, f"unexpected form {hidden}")
            step(
                f"consent page: 200, form posts to {urlparse(action).path}, "
                f"{len(hidden)} hidden fields incl. csrf, password field"
            )

            wrong = await http.post(action, data={**hidden, "password": PASSWORD + "-wrong", "decision": "approve"})
            check(wrong.status_code == 401, f"wrong password answered {wrong.status_code}, want 401")
            check("Wrong password" in wrong.text, "wrong password: the page does not say so")
            action, method, hidden, has_password = parse_form(wrong.text, authorization_url)
            check(hidden.get("csrf") and has_password, "wrong password: the form is not shown again")
            step('wrong password: 401, form shown again with "Wrong password."')

            right = await http.post(action, data={**hidden, "password": PASSWORD, "decision": "approve"})
            check(right.status_code == 302, f"right password answered {right.status_code}: {right.text[:300]}")
            location = right.headers["location"]
            params = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
            check("error" not in params, f"redirected with an error: {params}")
            check(location.split("?")[0] == self.callback_url, f"redirected to {location}")
            step(f"right password: 302 to {self.callback_url} with {', '.join(sorted(params))}")
            check(params.get("iss") == BASE, f"iss is the issuer {BASE}: {params.get('iss')}")
            self.result = AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss"))

    async def callback_handler(self) -> AuthorizationCodeResult:
        check(self.result, "no authorization result")
        assert self.result is not None
        return self.result


# ---- the flow --------------------------------------------------------------------------------------


def structured(result: Any, tool: str) -> dict[str, Any]:
    check(not result.is_error, f"{tool} failed: {result.content}")
    check(isinstance(result.structured_content, dict), f"{tool} returned no structuredContent")
    return result.structured_content


async def main() -> None:
    check(BASE and PASSWORD, "set FOOD_MCP_BASE_URL and FOOD_MCP_OWNER_PASSWORD")
    sdk = version("mcp")
    step(f"Python SDK mcp {sdk} on Python {sys.version.split()[0]}, server {MCP_URL}")
    callback = f"http://127.0.0.1:{20000 + os.getpid() % 20000}/callback"
    storage = MemoryStorage()
    browser = Browser(callback)
    provider = OAuthClientProvider(
        server_url=MCP_URL,
        client_metadata=OAuthClientMetadata(
            client_name=f"food-mcp sdk-clients (Python SDK {sdk})",
            redirect_uris=[callback],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
    )
    trace = Trace()
    http = httpx2.AsyncClient(
        auth=provider,
        timeout=httpx2.Timeout(30, read=300),
        event_hooks={"response": [trace.on_response]},
    )
    async with http, Client(streamable_http_client(MCP_URL, http_client=http)) as mcp:
        flow = trace.entries
        step(f"connected: {Trace.describe(flow)}")

        def find(method: str, path: str) -> Seen | None:
            return next((e for e in flow if e.method == method and e.path == path), None)

        first = flow[0]
        check(first.path == "/mcp" and first.status == 401, "the first request is refused with 401")
        check(
            re.search(r'resource_metadata="[^"]+/\.well-known/oauth-protected-resource/mcp"', first.www_authenticate or ""),
            f"401 names the metadata: {first.www_authenticate}",
        )
        check(getattr(find("GET", "/.well-known/oauth-protected-resource/mcp"), "status", 0) == 200, "PRM fetched")
        check(getattr(find("GET", "/.well-known/oauth-authorization-server"), "status", 0) == 200, "AS metadata fetched")
        check(getattr(find("POST", "/register"), "status", 0) == 201, "registered")
        info = storage.client_info
        check(info and info.client_id and not info.client_secret, "public client registered without secret")
        assert info is not None
        step(f"registered client {info.client_id} (auth method {info.token_endpoint_auth_method})")
        exchange = [e for e in flow if e.path == "/token"]
        check(len(exchange) == 1 and exchange[0].status == 200, "one token exchange, 200")
        body = parse_qs(exchange[0].body or "")
        check(body.get("grant_type") == ["authorization_code"] and body.get("code_verifier"), "code + verifier")
        tokens1 = storage.tokens
        check(tokens1 and tokens1.access_token and tokens1.refresh_token, "access and refresh token")
        assert tokens1 is not None
        check(sorted((tokens1.scope or "").split()) == ["food:read", "food:write"], f"scope {tokens1.scope}")
        step(f"token exchange: 200, expires_in {tokens1.expires_in}, scope {tokens1.scope!r}")
        check(flow[-1].path == "/mcp" and flow[-1].status == 200, "the retried request succeeded")
        check(flow[-1].authorization == f"Bearer {tokens1.access_token}", "retried with the new token")
        step(f"protocol version {mcp.session.protocol_version}")

        listed = await mcp.list_tools()
        names = sorted(t.name for t in listed.tools)
        check(names == [
            "calculate_meal", "delete_diary_entry", "get_diary", "get_goals", "get_nutrition",
            "log_food", "save_food", "search_food", "set_goals", "update_diary_entry",
        ], f"tools {names}")
        step(f"tools/list: {', '.join(t.name for t in listed.tools)}")

        name = f"Py SDK granola {os.getpid()}"
        saved = structured(
            await mcp.call_tool(
                "save_food",
                {
                    "name": name,
                    "servingSize": {"amount": 50, "unit": "g"},
                    "nutrients": {"calories": 220, "protein_g": 5, "total_carbs_g": 32, "total_fat_g": 8},
                },
            ),
            "save_food",
        )
        check(saved["id"].startswith("custom:"), f"id {saved['id']}")
        check(saved["source"] == "custom" and saved["updated"] is False, f"{saved}")
        check(saved["storedAs"] == "per 100 g", f"storedAs {saved['storedAs']}")
        step(f"save_food: id {saved['id']}, storedAs {saved['storedAs']!r}")

        async def nutrition(amount: float) -> dict[str, Any]:
            got = structured(
                await mcp.call_tool(
                    "get_nutrition", {"foodId": saved["id"], "source": "custom", "amount": amount, "unit": "g"}
                ),
                "get_nutrition",
            )
            check(got["name"] == name and got["source"] == "custom", f"{got['name']} {got['source']}")
            close_to(got["grams"], amount, "grams")
            k = amount / 50
            n = got["nutrients"]
            close_to(n["calories"]["value"], 220 * k, "calories")
            check(n["calories"]["unit"] == "kcal" and n["calories"]["available"] is True, f"{n['calories']}")
            close_to(n["protein_g"]["value"], 5 * k, "protein_g")
            close_to(n["total_carbs_g"]["value"], 32 * k, "total_carbs_g")
            close_to(n["total_fat_g"]["value"], 8 * k, "total_fat_g")
            return got

        got = await nutrition(125)
        n = got["nutrients"]
        step(
            f"get_nutrition 125 g: {n['calories']['value']} kcal, {n['protein_g']['value']} g protein, "
            f"{n['total_carbs_g']['value']} g carbs, {n['total_fat_g']['value']} g fat"
        )

        found = structured(
            await mcp.call_tool("search_food", {"query": "Py SDK granola", "source": "custom"}), "search_food"
        )
        results = found["results"]
        check(results and all(r["source"] == "custom" for r in results), f"custom results: {results}")
        check(any(r["id"] == saved["id"] and r["name"] == name for r in results), "the saved food is found")
        step(f"search_food (custom): {len(results)} result(s), first {results[0]['name']!r}, freshness {found['dataFreshness']}")

        # Refresh: the access token is past its expiry as far as the provider knows, so the SDK's
        # auth flow refreshes it (grant_type=refresh_token) before sending the next request.
        provider.context.token_expiry_time = time.time() - 1
        mark = len(trace.entries)
        got = await nutrition(80)
        seen = trace.since(mark)
        step(f"expired access token: {Trace.describe(seen)}")
        refresh = [e for e in seen if e.path == "/token"]
        check(len(refresh) == 1 and refresh[0].status == 200, "one refresh, 200")
        body = parse_qs(refresh[0].body or "")
        check(body.get("grant_type") == ["refresh_token"], f"grant_type {body.get('grant_type')}")
        check(body.get("refresh_token") == [tokens1.refresh_token], "the stored refresh token was sent")
        tokens2 = storage.tokens
        assert tokens2 is not None
        check(tokens2.access_token != tokens1.access_token, "new access token")
        check(tokens2.refresh_token != tokens1.refresh_token, "refresh token rotated")
        calls = [e for e in seen if e.path == "/mcp"]
        check(calls and all(e.authorization == f"Bearer {tokens2.access_token}" and e.status == 200 for e in calls),
              "the call used the refreshed token")
        step(
            f"refresh: access and refresh token rotated, resource={body.get('resource', ['-'])[0]}; "
            f"get_nutrition 80 g with the refreshed token: {got['nutrients']['calories']['value']} kcal"
        )
        total = len(trace.entries)
    print(f"py  ok: whole flow in {int((time.monotonic() - STARTED) * 1000)} ms ({total} HTTP requests)", flush=True)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except BaseException as err:  # noqa: BLE001 - report anything, including exception groups
        print(f"py  FAILED at step {_step + 1}: {err!r}", file=sys.stderr)
        traceback.print_exception(err, file=sys.stderr)
        sys.exit(1)
