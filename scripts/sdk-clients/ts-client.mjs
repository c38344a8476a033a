// The official MCP TypeScript SDK's OAuth client (the one Claude Code builds on) against a running
// food-mcp, end to end: 401 → discovery → dynamic registration → consent form (wrong password, then
// the right one) → token exchange → tool calls → refresh (the SDK's own code, twice: `auth()` with
// stored tokens, and the transport's reaction to a 401 for a dead access token) → tool calls.
//
//   FOOD_MCP_BASE_URL=http://127.0.0.1:PORT FOOD_MCP_OWNER_PASSWORD=... node ts-client.mjs
//
// Prints each step; exits 1 on the first failure.
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { approveInBrowser } from './browser.mjs';

const BASE = process.env.FOOD_MCP_BASE_URL;
const PASSWORD = process.env.FOOD_MCP_OWNER_PASSWORD;
if (!BASE || !PASSWORD) throw new Error('set FOOD_MCP_BASE_URL and FOOD_MCP_OWNER_PASSWORD');
const MCP_URL = new URL(`${BASE}/mcp`);
const SDK_VERSION = JSON.parse(
  readFileSync(new URL('./node_modules/@modelcontextprotocol/sdk/package.json', import.meta.url), 'utf8'),
).version;

const started = Date.now();
let n = 0;
const step = (text) => console.log(`ts  [${String(++n).padStart(2)}] ${text}`);

// Every HTTP request the SDK makes goes through this fetch, so the steps below can show (and check)
// what went over the wire: OAuth endpoints and /mcp alike.
const trace = [];
async function tracedFetch(url, init = {}) {
  const response = await fetch(url, init);
  const headers = new Headers(init.headers);
  let body = init.body;
  if (body instanceof URLSearchParams) body = body.toString();
  trace.push({
    method: init.method ?? 'GET',
    url: new URL(String(url)),
    status: response.status,
    authorization: headers.get('authorization'),
    body: typeof body === 'string' ? body : undefined,
    wwwAuthenticate: response.headers.get('www-authenticate'),
  });
  return response;
}
const since = (mark) => trace.slice(mark);
const describe = (entries) =>
  entries.map((t) => `${t.method} ${t.url.pathname} → ${t.status}`).join(', ');

/** OAuthClientProvider keeping everything in memory, as a CLI that stores it elsewhere would. */
class MemoryProvider {
  constructor(redirectUrl) {
    this._redirectUrl = redirectUrl;
    this.saved = [];
  }
  get redirectUrl() {
    return this._redirectUrl;
  }
  get clientMetadata() {
    return {
      client_name: `food-mcp sdk-clients (TypeScript SDK ${SDK_VERSION})`,
      redirect_uris: [this._redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    this.lastState = randomBytes(16).toString('base64url');
    return this.lastState;
  }
  clientInformation() {
    return this._client;
  }
  saveClientInformation(info) {
    this._client = info;
  }
  tokens() {
    return this._tokens;
  }
  saveTokens(tokens) {
    this._tokens = tokens;
    this.saved.push(tokens);
  }
  redirectToAuthorization(url) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier) {
    this._verifier = verifier;
  }
  codeVerifier() {
    return this._verifier;
  }
  invalidateCredentials(scope) {
    step(`(SDK invalidated credentials: ${scope})`);
    if (scope === 'all' || scope === 'tokens') this._tokens = undefined;
    if (scope === 'all' || scope === 'client') this._client = undefined;
  }
}

async function connect(provider) {
  const transport = new StreamableHTTPClientTransport(MCP_URL, { authProvider: provider, fetch: tracedFetch });
  const client = new Client({ name: 'food-mcp-sdk-clients-ts', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

const structured = (result, tool) => {
  assert.ok(!result.isError, `${tool} failed: ${JSON.stringify(result.content)}`);
  assert.ok(result.structuredContent, `${tool} returned no structuredContent`);
  return result.structuredContent;
};
const close = (actual, expected, what) =>
  assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: got ${actual}, want ${expected}`);

async function main() {
  step(`TypeScript SDK @modelcontextprotocol/sdk ${SDK_VERSION} on node ${process.version}, server ${MCP_URL}`);
  const provider = new MemoryProvider(`http://127.0.0.1:${20000 + (process.pid % 20000)}/callback`);

  // 1. Unauthenticated connect: 401 → discovery → registration → authorization URL.
  let mark = trace.length;
  const first = new StreamableHTTPClientTransport(MCP_URL, { authProvider: provider, fetch: tracedFetch });
  await assert.rejects(
    new Client({ name: 'food-mcp-sdk-clients-ts', version: '1.0.0' }).connect(first),
    UnauthorizedError,
    'connecting without a token should end in UnauthorizedError (redirect needed)',
  );
  const flow = since(mark);
  step(`connect without token: ${describe(flow)}`);
  const find = (method, path) => flow.find((t) => t.method === method && t.url.pathname === path);
  const unauth = find('POST', '/mcp');
  assert.equal(unauth?.status, 401, 'first POST /mcp answers 401');
  assert.match(unauth.wwwAuthenticate ?? '', /resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp"/);
  assert.equal(find('GET', '/.well-known/oauth-protected-resource/mcp')?.status, 200, 'PRM fetched');
  assert.equal(find('GET', '/.well-known/oauth-authorization-server')?.status, 200, 'AS metadata fetched');
  const reg = find('POST', '/register');
  assert.equal(reg?.status, 201, 'registered');
  const client = provider.clientInformation();
  assert.ok(client?.client_id, 'client_id saved');
  assert.equal(client.client_secret, undefined, 'public client gets no secret');
  step(`registered client ${client.client_id} (auth method ${client.token_endpoint_auth_method})`);
  const authUrl = provider.authorizationUrl;
  assert.ok(authUrl, 'SDK asked to redirect to the authorization endpoint');
  for (const p of ['client_id', 'redirect_uri', 'state', 'code_challenge', 'resource', 'scope']) {
    assert.ok(authUrl.searchParams.get(p), `authorization URL carries ${p}`);
  }
  assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authUrl.searchParams.get('resource'), MCP_URL.href);
  step(`authorization URL: ${authUrl.origin}${authUrl.pathname} scope="${authUrl.searchParams.get('scope')}" resource=${authUrl.searchParams.get('resource')}`);

  // 2. The browser: consent form, wrong password, right password, 302.
  const answer = await approveInBrowser(authUrl, { password: PASSWORD, wrongPassword: `${PASSWORD}-wrong`, step });
  assert.equal(answer.state, provider.lastState, 'state comes back unchanged');
  assert.equal(answer.iss, BASE, 'iss (RFC 9207) is the issuer');
  assert.equal(`${answer.location.origin}${answer.location.pathname}`, provider.redirectUrl);
  assert.ok(answer.code, 'code in the redirect');
  step('callback: state matches, iss matches the issuer');

  // 3. Token exchange through the SDK.
  mark = trace.length;
  await first.finishAuth(answer.code);
  const exchange = since(mark).filter((t) => t.url.pathname === '/token');
  assert.equal(exchange.length, 1);
  assert.equal(exchange[0].status, 200);
  const exchangeBody = new URLSearchParams(exchange[0].body);
  assert.equal(exchangeBody.get('grant_type'), 'authorization_code');
  assert.ok(exchangeBody.get('code_verifier'));
  const tokens1 = provider.tokens();
  assert.ok(tokens1?.access_token && tokens1.refresh_token, 'access and refresh token');
  assert.equal(tokens1.token_type.toLowerCase(), 'bearer');
  assert.deepEqual(tokens1.scope.split(' ').sort(), ['food:read', 'food:write']);
  step(`token exchange: 200, expires_in ${tokens1.expires_in}, scope "${tokens1.scope}"`);

  // 4. Tool calls with the token.
  mark = trace.length;
  const { client: mcp, transport } = await connect(provider);
  step(`connected: ${describe(since(mark))}; server ${mcp.getServerVersion()?.name} ${mcp.getServerVersion()?.version}, protocol ${transport.protocolVersion}`);
  const { tools } = await mcp.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), ['calculate_meal', 'delete_diary_entry', 'get_diary', 'get_goals', 'get_nutrition', 'log_food', 'save_food', 'search_food', 'set_goals', 'update_diary_entry']);
  step(`tools/list: ${tools.map((t) => t.name).join(', ')}`);

  const name = `TS SDK granola ${process.pid}`;
  const saved = structured(
    await mcp.callTool({
      name: 'save_food',
      arguments: {
        name,
        servingSize: { amount: 50, unit: 'g' },
        nutrients: { calories: 220, protein_g: 5, total_carbs_g: 32, total_fat_g: 8 },
      },
    }),
    'save_food',
  );
  assert.match(saved.id, /^custom:/);
  assert.equal(saved.source, 'custom');
  assert.equal(saved.updated, false);
  assert.equal(saved.storedAs, 'per 100 g');
  step(`save_food: id ${saved.id}, storedAs "${saved.storedAs}"`);

  const nutrition = async (amount) => {
    const got = structured(
      await mcp.callTool({ name: 'get_nutrition', arguments: { foodId: saved.id, source: 'custom', amount, unit: 'g' } }),
      'get_nutrition',
    );
    assert.equal(got.name, name);
    assert.equal(got.source, 'custom');
    close(got.grams, amount, 'grams');
    const k = amount / 50;
    close(got.nutrients.calories.value, 220 * k, 'calories');
    assert.equal(got.nutrients.calories.unit, 'kcal');
    assert.equal(got.nutrients.calories.available, true);
    close(got.nutrients.protein_g.value, 5 * k, 'protein_g');
    close(got.nutrients.total_carbs_g.value, 32 * k, 'total_carbs_g');
    close(got.nutrients.total_fat_g.value, 8 * k, 'total_fat_g');
    return got;
  };
  let got = await nutrition(125);
  step(`get_nutrition 125 g: ${got.nutrients.calories.value} kcal, ${got.nutrients.protein_g.value} g protein, ${got.nutrients.total_carbs_g.value} g carbs, ${got.nutrients.total_fat_g.value} g fat`);

  const found = structured(
    await mcp.callTool({ name: 'search_food', arguments: { query: 'TS SDK granola', source: 'custom' } }),
    'search_food',
  );
  assert.ok(found.results.length >= 1, 'search finds the saved food');
  assert.ok(found.results.every((r) => r.source === 'custom'), 'only custom results');
  assert.ok(found.results.some((r) => r.id === saved.id && r.name === name), 'the saved food is among them');
  step(`search_food (custom): ${found.results.length} result(s), first "${found.results[0].name}", freshness ${found.dataFreshness}`);

  // 5a. Refresh through auth() with the stored tokens (what a client does when its token expired).
  mark = trace.length;
  const result = await auth(provider, { serverUrl: MCP_URL, fetchFn: tracedFetch });
  assert.equal(result, 'AUTHORIZED');
  const refresh1 = since(mark).filter((t) => t.url.pathname === '/token');
  assert.equal(refresh1.length, 1, 'one token request');
  assert.equal(refresh1[0].status, 200);
  const refreshBody = new URLSearchParams(refresh1[0].body);
  assert.equal(refreshBody.get('grant_type'), 'refresh_token');
  assert.equal(refreshBody.get('refresh_token'), tokens1.refresh_token);
  const tokens2 = provider.tokens();
  assert.notEqual(tokens2.access_token, tokens1.access_token, 'new access token');
  assert.notEqual(tokens2.refresh_token, tokens1.refresh_token, 'refresh token rotated');
  step(`refresh via auth(): ${describe(since(mark))}; access and refresh token rotated, resource=${refreshBody.get('resource')}`);

  mark = trace.length;
  got = await nutrition(80);
  const used = since(mark).filter((t) => t.url.pathname === '/mcp');
  assert.ok(used.length >= 1 && used.every((t) => t.authorization === `Bearer ${tokens2.access_token}` && t.status === 200));
  step(`get_nutrition 80 g with the refreshed token: ${got.nutrients.calories.value} kcal`);

  // 5b. A dead access token: /mcp answers 401 and the transport refreshes by itself, then retries.
  provider.saveTokens({ ...tokens2, access_token: 'not-a-valid-token' });
  mark = trace.length;
  got = await nutrition(10);
  const recovery = since(mark);
  step(`dead access token: ${describe(recovery)}`);
  const rejected = recovery.find((t) => t.url.pathname === '/mcp' && t.status === 401);
  assert.ok(rejected, 'the dead token was refused');
  assert.match(rejected.wwwAuthenticate ?? '', /error="invalid_token"/);
  const refresh2 = recovery.filter((t) => t.url.pathname === '/token');
  assert.equal(refresh2.length, 1);
  assert.equal(new URLSearchParams(refresh2[0].body).get('grant_type'), 'refresh_token');
  assert.equal(refresh2[0].status, 200);
  const tokens3 = provider.tokens();
  assert.notEqual(tokens3.access_token, 'not-a-valid-token');
  assert.notEqual(tokens3.refresh_token, tokens2.refresh_token);
  const last = recovery.at(-1);
  assert.ok(last.url.pathname === '/mcp' && last.status === 200 && last.authorization === `Bearer ${tokens3.access_token}`);
  step(`get_nutrition 10 g after the SDK's own refresh: ${got.nutrients.calories.value} kcal`);

  await transport.close();
  console.log(`ts  ok: whole flow in ${Date.now() - started} ms (${trace.length} HTTP requests)`);
}

main().catch((err) => {
  console.error(`ts  FAILED at step ${n + 1}: ${err?.stack ?? err}`);
  if (trace.length) {
    console.error('ts  last HTTP requests:');
    for (const t of trace.slice(-8)) {
      console.error(`      ${t.method} ${t.url.pathname} → ${t.status}${t.wwwAuthenticate ? ` (WWW-Authenticate: ${t.wwwAuthenticate})` : ''}`);
    }
  }
  process.exit(1);
});
