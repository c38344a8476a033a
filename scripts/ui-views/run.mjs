// The driver of scripts/ui-views.sh: food-mcp's MCP App views rendered from real tool results in
// headless Chromium, inside a host page that speaks the official host side of the bridge.
//
//   FOOD_MCP_BASE_URL=http://127.0.0.1:PORT UI_VIEWS_ARTIFACTS=DIR [UI_VIEWS_CATALOG=1] \
//     [CHROMIUM=/usr/bin/chromium] node run.mjs
//
// With the official MCP client (@modelcontextprotocol/client, announcing the extension) it checks
// what the server advertises, lists and reads the ui:// resources, saves foods and calls the tools.
// Each tool result then goes to a harness page (host.mjs, bundled here with esbuild) that loads the
// view from the resource's HTML in a sandboxed iframe of its own origin, under the CSP the
// extension derives from the resource's `_meta.ui.csp`; every other request is refused and fails
// the run. The rendered DOM is checked against the result's structuredContent (every nutrient's
// value, the grams, "no data" for what the food lacks, %DV, freshness, warnings), the view must fit
// 360 px, follow the host's theme, and raise no error or CSP violation. Screenshots go to DIR.
// Prints PASS/FAIL/SKIP lines and finally "ui-views: N passed, M failed"; exits 1 on any failure.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const BASE = process.env.FOOD_MCP_BASE_URL;
const ARTIFACTS = process.env.UI_VIEWS_ARTIFACTS;
if (!BASE || !ARTIFACTS) throw new Error('set FOOD_MCP_BASE_URL and UI_VIEWS_ARTIFACTS');
const CATALOG = process.env.UI_VIEWS_CATALOG === '1';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

const EXTENSION = 'io.modelcontextprotocol/ui';
const MIME = 'text/html;profile=mcp-app';
const LABEL_URI = 'ui://food-mcp/nutrition-label.html';
const DAY_URI = 'ui://food-mcp/day-view.html';
// The harness and the view live on origins of their own, as with a web host's sandbox domain.
const HOST_ORIGIN = 'http://host.food-mcp.test';
const VIEW_ORIGIN = 'http://view.food-mcp.test';
const WIDTH = 360;
const LOCALE = 'en-US';
const shown = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });

/** The FDA daily values a label prints a %DV for (21 CFR 101.9(c), adults and children >= 4):
 *  the test's own oracle. Protein's %DV is voluntary and left off. */
const FDA_DV = {
  total_fat_g: 78, saturated_fat_g: 20, cholesterol_mg: 300, sodium_mg: 2300, total_carbs_g: 275,
  fiber_g: 28, added_sugars_g: 50, vitamin_d_mcg: 20, calcium_mg: 1300, iron_mg: 18, potassium_mg: 4700,
  vitamin_a_mcg: 900, vitamin_c_mg: 90, vitamin_e_mg: 15, vitamin_k_mcg: 120, thiamin_mg: 1.2,
  riboflavin_mg: 1.3, niacin_mg: 16, vitamin_b6_mg: 1.7, folate_mcg: 400, vitamin_b12_mcg: 2.4,
  phosphorus_mg: 1250, magnesium_mg: 420, zinc_mg: 11,
};
/** Rows an FDA label always has: a food without data for one must say "no data" there. */
const MANDATORY = ['calories', 'total_fat_g', 'saturated_fat_g', 'trans_fat_g', 'cholesterol_mg', 'sodium_mg',
  'total_carbs_g', 'fiber_g', 'sugars_g', 'added_sugars_g', 'protein_g', 'vitamin_d_mcg', 'calcium_mg',
  'iron_mg', 'potassium_mg'];

let passed = 0;
let failed = 0;
let skipped = 0;
async function check(name, body) {
  try {
    const note = await body();
    passed++;
    console.log(`PASS  ${name}${note ? ` (${note})` : ''}`);
  } catch (error) {
    failed++;
    console.log(`FAIL  ${name}: ${error.message}`);
  }
}
function skip(name, why) {
  skipped++;
  console.log(`SKIP  ${name}: ${why}`);
}

// ---- the server, through the official client --------------------------------------------------
const client = new Client(
  { name: 'food-mcp ui-views', version: '1' },
  { capabilities: { extensions: { [EXTENSION]: { mimeTypes: [MIME] } } } },
);
await client.connect(new StreamableHTTPClientTransport(new URL(`${BASE}/mcp`)));

function call(name, args) {
  return client.callTool({ name, arguments: args });
}
async function callOk(name, args) {
  const result = await call(name, args);
  if (result.isError) throw new Error(`${name} failed: ${result.content.map((c) => c.text).join(' ')}`);
  return result;
}

const { tools } = await client.listTools();
const tool = (name) => tools.find((t) => t.name === name);
const resources = {};

await check('initialize: the server advertises io.modelcontextprotocol/ui and resources', () => {
  const capabilities = client.getServerCapabilities();
  assert.deepEqual(capabilities.extensions?.[EXTENSION]?.mimeTypes, [MIME], JSON.stringify(capabilities));
  assert.ok(capabilities.resources, 'no resources capability');
});

await check('tools/list: get_nutrition and calculate_meal name the label, other tools no view', () => {
  assert.equal(tool('get_nutrition')?._meta?.ui?.resourceUri, LABEL_URI);
  assert.equal(tool('calculate_meal')?._meta?.ui?.resourceUri, LABEL_URI);
  for (const name of ['search_food', 'save_food']) assert.equal(tool(name)?._meta?.ui, undefined, name);
  if (tool('get_diary')) assert.equal(tool('get_diary')._meta?.ui?.resourceUri, DAY_URI);
  return tool('get_diary') ? 'get_diary names the day view' : undefined;
});

await check('resources/list and resources/read: each view as one HTML document with a strict CSP', async () => {
  const listed = (await client.listResources()).resources;
  for (const uri of [LABEL_URI, DAY_URI]) {
    const entry = listed.find((r) => r.uri === uri);
    assert.ok(entry, `${uri} not listed`);
    assert.equal(entry.mimeType, MIME, uri);
    const { contents } = await client.readResource({ uri });
    assert.equal(contents.length, 1, uri);
    const [content] = contents;
    assert.equal(content.uri, uri);
    assert.equal(content.mimeType, MIME, uri);
    assert.match(content.text, /^<!doctype html>/i, uri);
    const csp = content._meta?.ui?.csp;
    assert.ok(csp, `${uri} declares no CSP`);
    for (const key of ['connectDomains', 'resourceDomains', 'frameDomains', 'baseUriDomains']) {
      assert.deepEqual(csp[key], [], `${uri} csp.${key}`);
    }
    resources[uri] = content;
  }
  return `${Object.values(resources).map((c) => `${c.uri.split('/').pop()} ${c.text.length} B`).join(', ')}`;
});
if (!resources[LABEL_URI] || !resources[DAY_URI]) {
  console.log(`ui-views: ${passed} passed, ${failed} failed`);
  process.exit(1);
}

// ---- foods: saved ones (a core nutrient without data), and USDA ones when the catalog is there ----
const oats = (await callOk('save_food', {
  name: 'Harness overnight oats', servingSize: { amount: 250, unit: 'g' },
  nutrients: { calories: 312.5, protein_g: 11.25, total_carbs_g: 54.5, total_fat_g: 6.1, fiber_g: 8.2, sugars_g: 12.4, sodium_mg: 95 },
})).structuredContent;
const coffee = (await callOk('save_food', {
  name: 'Harness cold brew', brand: 'Test Roasters', servingSize: { amount: 1, unit: 'cup', grams: 240 },
  nutrients: { calories: 5, caffeine_mg: 200, potassium_mg: 116 },
})).structuredContent;
const banana = { foodId: '173944', source: 'usda', amount: 1, unit: 'medium' };
const milk = { foodId: '171265', source: 'usda', amount: 1, unit: 'cup' };
const oatsServing = { foodId: oats.id, source: 'custom', amount: 250, unit: 'g' };
const coffeeCup = { foodId: coffee.id, source: 'custom', amount: 1, unit: 'cup' };

// ---- the browser and the harness ----------------------------------------------------------------
const here = fileURLToPath(new URL('.', import.meta.url));
const hostScript = (await build({
  entryPoints: [`${here}host.mjs`], bundle: true, format: 'iife', platform: 'browser', write: false,
  target: 'chrome120', logLevel: 'silent',
})).outputFiles[0].text;
const HOST_PAGE = `<!doctype html><html><head><meta charset="utf-8"><style>
  html, body { margin: 0; } iframe { display: block; width: 100%; border: 0; height: 600px; }
</style></head><body><script src="/host.js"></script></body></html>`;

/** The CSP a host derives from a resource's `_meta.ui.csp` (the extension's "CSP Construction
 *  from Metadata"). */
function cspHeader(csp = {}) {
  const list = (domains) => (domains || []).join(' ');
  const resource = list(csp.resourceDomains);
  return [
    "default-src 'none'",
    `script-src 'self' 'unsafe-inline' ${resource}`,
    `style-src 'self' 'unsafe-inline' ${resource}`,
    `connect-src 'self' ${list(csp.connectDomains)}`,
    `img-src 'self' data: ${resource}`,
    `font-src 'self' ${resource}`,
    `media-src 'self' data: ${resource}`,
    `frame-src ${list(csp.frameDomains) || "'none'"}`,
    "object-src 'none'",
    `base-uri ${list(csp.baseUriDomains) || "'self'"}`,
  ].map((d) => d.trim()).join('; ');
}

mkdirSync(ARTIFACTS, { recursive: true });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });

/** Opens the harness, mounts the view of `uri` with a tool call and its result, and returns the
 *  page, the view's frame and what went wrong on the way (refused requests, errors, CSP). */
async function mount({ uri, input, result, theme = 'light' }) {
  const context = await browser.newContext({ viewport: { width: WIDTH, height: 900 }, colorScheme: theme, locale: LOCALE });
  const problems = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.origin === HOST_ORIGIN && url.pathname === '/') {
      return route.fulfill({ contentType: 'text/html', body: HOST_PAGE });
    }
    if (url.origin === HOST_ORIGIN && url.pathname === '/host.js') {
      return route.fulfill({ contentType: 'text/javascript', body: hostScript });
    }
    if (url.origin === VIEW_ORIGIN && url.pathname === '/view.html') {
      const content = resources[url.searchParams.get('uri')];
      return route.fulfill({
        contentType: 'text/html; charset=utf-8',
        headers: { 'content-security-policy': cspHeader(content._meta.ui.csp) },
        body: content.text,
      });
    }
    problems.push(`request to ${url.href} (a view must load nothing)`);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) {
      problems.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  await page.goto(`${HOST_ORIGIN}/`);
  const hostContext = { theme, locale: LOCALE, displayMode: 'inline', platform: 'web', containerDimensions: { maxWidth: WIDTH } };
  const hello = await page.evaluate((args) => window.mountView(args), {
    viewUrl: `${VIEW_ORIGIN}/view.html?uri=${encodeURIComponent(uri)}`, toolInput: input, toolResult: result, hostContext,
  });
  const frame = page.frameLocator('iframe');
  return { context, page, frame, hello, problems };
}

/** No refused request, error or CSP violation; fits 360 px; the host got the view's height. */
async function expectClean({ page, frame, problems, hello }, name) {
  assert.deepEqual(problems, [], 'the view misbehaved');
  assert.match(hello.appInfo?.name ?? '', /^food-mcp /, 'ui/initialize appInfo');
  const overflow = await frame.locator('html').evaluate((html) => html.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${name} is ${overflow}px wider than ${WIDTH}px`);
  const sizes = await page.evaluate(() => window.viewSizes);
  const height = await frame.locator('html').evaluate((html) => Math.ceil(html.getBoundingClientRect().height));
  assert.equal(sizes.at(-1)?.height, height, `ui/notifications/size-changed: ${JSON.stringify(sizes)}`);
}

async function screenshot({ page, frame }, file) {
  // The view paints in a process of its own (another origin), and Chromium can capture such a
  // frame blank beyond the viewport: make the viewport hold all of it, and let it paint.
  const height = await page.locator('iframe').evaluate((iframe) => Math.ceil(iframe.getBoundingClientRect().height));
  await page.setViewportSize({ width: WIDTH, height: Math.max(height, 200) });
  const frames = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  await frame.locator('html').evaluate(frames);
  await page.evaluate(frames);
  await page.locator('iframe').screenshot({ path: `${ARTIFACTS}/${file}` });
}

/** The host switches to dark: the view follows (ui/notifications/host-context-changed). */
async function darken(mounted) {
  await mounted.page.emulateMedia({ colorScheme: 'dark' });
  await mounted.page.evaluate(() => window.setHostTheme('dark'));
  const html = mounted.frame.locator('html');
  await html.and(mounted.frame.locator('[data-theme="dark"]')).waitFor();
  const background = await mounted.frame.locator('body').evaluate((b) => getComputedStyle(b).backgroundColor);
  const [r, g, b] = background.match(/\d+/g).map(Number);
  assert.ok(r + g + b < 150, `dark theme background is ${background}`);
}

// ---- DOM against structuredContent ---------------------------------------------------------------
/** One shown amount: `data-value` is the tool's number exactly, the text that number as shown,
 *  and a nutrient without data says "no data" (never 0). Returns whether it was "no data". */
async function expectAmount(node, entry, what) {
  const text = (await node.textContent()).trim();
  const available = entry !== undefined && entry.available !== false && typeof entry.value === 'number';
  if (!available) {
    assert.equal(text, 'no data', `${what}: shows "${text}", want "no data"`);
    assert.equal(await node.getAttribute('data-value'), null, `${what}: a value for no data`);
    return true;
  }
  assert.equal(Number(await node.getAttribute('data-value')), entry.value, `${what}: data-value`);
  assert.equal(text, shown.format(entry.value), `${what}: text`);
  return false;
}

/** A Nutrition Facts panel against a nutrient map; returns how many rows said "no data". */
async function expectPanel(panel, nutrients, what) {
  let noData = 0;
  const keys = new Set([...Object.keys(nutrients), ...MANDATORY]);
  for (const key of keys) {
    const row = panel.locator(`[data-nutrient="${key}"]`);
    assert.equal(await row.count(), 1, `${what}: rows for ${key}`);
    if (await expectAmount(row.locator('[data-role="amount"]'), nutrients[key], `${what} ${key}`)) noData++;
    const bounded = await row.locator('[data-role="bound"]').count();
    assert.equal(bounded, nutrients[key]?.lowerBound && nutrients[key]?.available ? 1 : 0, `${what} ${key}: "≥" marker`);
    const dv = FDA_DV[key];
    const entry = nutrients[key];
    const dvNode = row.locator('.dv');
    const dvText = (await dvNode.count()) ? (await dvNode.textContent()).trim() : '';
    if (dv && entry?.available) {
      assert.equal(dvText, `${entry.lowerBound ? '≥ ' : ''}${Math.round((entry.value / dv) * 100)}%`, `${what} ${key}: %DV`);
    } else {
      assert.equal(dvText, '', `${what} ${key}: no %DV without data or daily value`);
    }
  }
  return noData;
}

/** "1 medium (118 g)": the amount, the unit and the grams of a food answer. */
async function expectServing(scope, food, what) {
  const amountNode = scope.locator('.serving-amount [data-role="amount"]').first();
  assert.equal(Number(await amountNode.getAttribute('data-value')), food.amount, `${what}: amount`);
  assert.equal((await scope.locator('.serving-amount [data-role="unit"]').first().textContent()).trim(), food.unit.replace('fl_oz', 'fl oz'));
  if (food.unit !== 'g' && typeof food.grams === 'number') {
    const grams = scope.locator('.serving-amount [data-role="grams"]').first();
    assert.equal(Number(await grams.getAttribute('data-value')), food.grams, `${what}: grams`);
    assert.equal((await grams.textContent()).trim(), shown.format(food.grams), `${what}: grams text`);
  }
}

async function expectMeta(frame, data, what) {
  assert.equal((await frame.locator('[data-role="freshness"]').last().textContent()).trim(), `data: ${data.dataFreshness}`, `${what}: freshness`);
  assert.equal(await frame.locator('[data-role="warnings"] li').count(), data.warnings.length, `${what}: warnings`);
}

function foodName(food) {
  return food.brand ? `${food.name} — ${food.brand}` : food.name;
}

async function expectFoodLabel(frame, food) {
  const panel = frame.locator('section.label');
  await panel.first().waitFor();
  assert.equal(await panel.count(), 1, 'one panel');
  assert.equal((await panel.locator('[data-role="food"]').textContent()).trim(), foodName(food));
  await expectServing(panel, food, food.name);
  const noData = await expectPanel(panel, food.nutrients, food.name);
  await expectMeta(frame, food, food.name);
  return noData;
}

async function expectMeal(frame, meal) {
  const totals = frame.locator('[data-role="meal-totals"]');
  await totals.waitFor();
  assert.equal((await totals.locator('[data-role="item-count"]').textContent()).trim(), `${meal.items.length} items`);
  let noData = await expectPanel(totals, meal.totals, 'meal totals');
  const items = frame.locator('details[data-role="item"]');
  assert.equal(await items.count(), meal.items.length, 'items');
  for (const [index, item] of meal.items.entries()) {
    const details = items.nth(index);
    const summary = details.locator('summary');
    await expectServing(summary, item, `item ${index} summary`);
    await expectAmount(summary.locator('[data-nutrient="calories"] [data-role="amount"]'), item.nutrients.calories, `item ${index} summary kcal`);
    noData += await expectPanel(details.locator('section.label'), item.nutrients, `item ${index}`);
  }
  // One line per item that lacks some nutrient, and one for the nutrients no item has.
  const lacking = new Set(meal.nutrientCoverage.partial.flatMap((p) => p.missingFrom));
  const lines = lacking.size + (meal.nutrientCoverage.missing.length ? 1 : 0);
  assert.equal(await frame.locator('[data-role="coverage"] li').count(), lines, 'coverage lines');
  for (const index of lacking) {
    const line = frame.locator('[data-role="coverage"] li').filter({ hasText: `${foodName(meal.items[index])}: no data for` });
    assert.equal(await line.count(), 1, `coverage line of item ${index}`);
  }
  await expectMeta(frame, meal, 'meal');
  return noData;
}

/** The day view against get_diary's days: totals, goals, entries in their meals, meal totals. */
async function expectDays(frame, data) {
  const days = frame.locator('[data-role="day"]');
  await days.first().waitFor();
  assert.equal(await days.count(), data.days.length, 'days');
  let noData = 0;
  for (const [index, day] of data.days.entries()) {
    const section = days.nth(index);
    assert.equal(await section.getAttribute('data-date'), day.date, `day ${index}`);
    for (const key of ['calories', 'protein_g', 'total_carbs_g', 'total_fat_g']) {
      const node = section.locator(`[data-role="totals"] [data-nutrient="${key}"]`);
      if (await expectAmount(node.locator('[data-role="amount"]'), day.totals[key], `${day.date} total ${key}`)) noData++;
      const bounded = day.totals[key]?.lowerBound && day.totals[key]?.available ? 1 : 0;
      assert.equal(await node.locator('[data-role="bound"]').count(), bounded, `${day.date} total ${key} "≥"`);
    }
    const goals = Object.entries(day.goals ?? {});
    assert.equal(await section.locator('[data-goal]').count(), goals.length, `${day.date} goals`);
    for (const [key, goal] of goals) {
      const node = section.locator(`[data-goal="${key}"]`);
      const what = `${day.date} goal ${key}`;
      assert.equal(Number(await node.locator('[data-role="target"]').getAttribute('data-value')), goal.target, `${what} target`);
      const value = node.locator('[data-role="value"]');
      if (goal.value === null) {
        assert.equal((await value.textContent()).trim(), 'no data', `${what} value`);
        noData++;
        continue;
      }
      assert.equal(Number(await value.getAttribute('data-value')), goal.value, `${what} value`);
      if (goal.over > 0) {
        assert.equal(Number(await node.locator('[data-role="over"]').getAttribute('data-value')), goal.over, `${what} over`);
      } else if (goal.remaining > 0) {
        assert.equal(Number(await node.locator('[data-role="remaining"]').getAttribute('data-value')), goal.remaining, `${what} remaining`);
      }
    }
    assert.equal(await section.locator('[data-role="entry"]').count(), day.entries.length, `${day.date} entries`);
    for (const entry of day.entries) {
      const meal = entry.meal ?? 'unassigned';
      const node = section.locator(`[data-meal="${meal}"] [data-entry="${entry.id}"]`);
      const what = `${day.date} ${entry.name}`;
      assert.equal(await node.count(), 1, `${what} under ${meal}`);
      assert.equal(Number(await node.locator('[data-role="amount"]').first().getAttribute('data-value')), entry.amount, `${what} amount`);
      if (entry.unit !== 'g' && typeof entry.grams === 'number') {
        assert.equal(Number(await node.locator('[data-role="grams"]').getAttribute('data-value')), entry.grams, `${what} grams`);
      }
      await expectAmount(node.locator('[data-nutrient="calories"] [data-role="amount"]'), entry.nutrients.calories, `${what} kcal`);
    }
    for (const meal of new Set(day.entries.map((e) => e.meal ?? 'unassigned'))) {
      const header = section.locator(`[data-meal="${meal}"] h2 [data-nutrient="calories"] [data-role="amount"]`);
      await expectAmount(header, day.meals[meal].calories, `${day.date} ${meal} kcal`);
    }
    assert.equal(await section.locator('[data-role="empty"]').count(), day.entries.length ? 0 : 1, `${day.date} "nothing logged"`);
  }
  return noData;
}

// ---- the cases ------------------------------------------------------------------------------------
const cases = [];
if (CATALOG) {
  cases.push({ name: 'nutrition label: get_nutrition, USDA whole milk 1 cup', tool: 'get_nutrition', args: milk, uri: LABEL_URI, shots: ['nutrition-label'], expect: expectFoodLabel });
} else {
  skip('nutrition label: USDA foods', 'the SR Legacy catalog was not imported (set FOOD_MCP_USDA_DATA)');
}
cases.push({ name: 'nutrition label: get_nutrition, a saved food lacking protein, carbs and fat', tool: 'get_nutrition', args: coffeeCup, uri: LABEL_URI, shots: CATALOG ? [] : ['nutrition-label'], expect: expectFoodLabel, wantNoData: true });
cases.push({
  name: 'nutrition label: calculate_meal with each item',
  tool: 'calculate_meal',
  args: { items: CATALOG ? [banana, oatsServing, coffeeCup] : [oatsServing, coffeeCup] },
  uri: LABEL_URI, shots: ['meal'], expect: expectMeal, wantNoData: true,
});

// The diary: goals (added sugars: no food here has data for them), and a day of three log_food
// calls (one without a meal or a time).
const DIARY_DAY = '2026-03-03';
if (tool('get_diary') && tool('log_food') && tool('set_goals')) {
  await callOk('set_goals', { goals: { calories: 2000, protein_g: 60, fiber_g: 30, sodium_mg: 150, added_sugars_g: 25 } });
  await callOk('log_food', { items: CATALOG ? [oatsServing, milk] : [oatsServing], date: DIARY_DAY, time: '08:00', meal: 'breakfast', note: 'with cinnamon' });
  await callOk('log_food', { items: [CATALOG ? banana : oatsServing], date: DIARY_DAY, time: '12:30', meal: 'lunch' });
  await callOk('log_food', { items: [coffeeCup], date: DIARY_DAY });
  cases.push({ name: 'day view: get_diary, a day with goals and meals', tool: 'get_diary', args: { date: DIARY_DAY }, uri: DAY_URI, shots: ['day-view'], expect: expectDays, wantNoData: true });
  cases.push({ name: 'day view: get_diary, a range ending on an empty day', tool: 'get_diary', args: { date: DIARY_DAY, to: '2026-03-04' }, uri: DAY_URI, shots: [], expect: expectDays });
} else {
  skip('day view: get_diary', 'this server has no get_diary tool (the food diary, issue 14)');
}

for (const c of cases) {
  await check(c.name, async () => {
    const result = await callOk(c.tool, c.args);
    const mounted = await mount({ uri: c.uri, input: c.args, result });
    try {
      const noData = await c.expect(mounted.frame, result.structuredContent);
      if (c.wantNoData) assert.ok(noData > 0, 'no "no data" row was checked');
      await expectClean(mounted, c.name);
      for (const shot of c.shots) await screenshot(mounted, `${shot}-light.png`);
      await darken(mounted);
      await expectClean(mounted, `${c.name} (dark)`);
      for (const shot of c.shots) await screenshot(mounted, `${shot}-dark.png`);
      return `${noData} "no data" rows, ${mounted.hello.appInfo.name}`;
    } finally {
      await mounted.context.close();
    }
  });
}

await check('nutrition label: an isError result shows its sentence', async () => {
  const args = { ...coffeeCup, amount: -1 };
  const result = await call('get_nutrition', args);
  assert.equal(result.isError, true, 'a negative amount was accepted');
  const mounted = await mount({ uri: LABEL_URI, input: args, result });
  try {
    const error = mounted.frame.locator('.fm-error');
    await error.waitFor();
    assert.equal((await error.textContent()).trim(), result.content[0].text);
    await expectClean(mounted, 'error');
  } finally {
    await mounted.context.close();
  }
});


await browser.close();
await client.close();
console.log(`ui-views: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);
