// The "browser" of scripts/sdk-clients.sh for the TypeScript client: opens the authorization URL
// the SDK asked to redirect to, submits food-mcp's consent form (first with a wrong owner password,
// which must re-show the form with HTTP 401, then with the right one) and returns the parameters of
// the 302 back to the client's redirect URI. No scripts run on the page; it is a plain HTML form.

function unescapeHtml(text) {
  // Named and numeric character references (the page's template writes `&#34;` for `"`).
  const named = { quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' };
  return text.replace(/&(?:#(\d+)|#x([0-9a-f]+)|(quot|apos|lt|gt|amp));/gi, (_, dec, hex, name) =>
    dec ? String.fromCodePoint(Number(dec)) : hex ? String.fromCodePoint(parseInt(hex, 16)) : named[name.toLowerCase()]);
}

function attr(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}="([^"]*)"`));
  return m ? unescapeHtml(m[1]) : undefined;
}

/** The page's one form: its action, method and hidden inputs. */
export function parseForm(html, pageUrl) {
  const form = html.match(/<form\b[^>]*>/);
  if (!form) throw new Error(`no <form> on the consent page: ${html.slice(0, 300)}`);
  const action = new URL(attr(form[0], 'action') ?? '', pageUrl);
  const method = (attr(form[0], 'method') ?? 'get').toLowerCase();
  const hidden = {};
  for (const input of html.matchAll(/<input\b[^>]*>/g)) {
    if (attr(input[0], 'type') === 'hidden') hidden[attr(input[0], 'name')] = attr(input[0], 'value') ?? '';
  }
  const hasPassword = /<input\b[^>]*type="password"[^>]*name="password"/.test(html);
  return { action, method, hidden, hasPassword };
}

/** Cookie jar of one: the `name=value` parts of Set-Cookie headers. */
function cookiesOf(response, jar) {
  for (const line of response.headers.getSetCookie?.() ?? []) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
}
const cookieHeader = (jar) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

export async function approveInBrowser(authorizationUrl, { password, wrongPassword, step }) {
  const jar = new Map();
  const page = await fetch(authorizationUrl, { redirect: 'manual' });
  const html = await page.text();
  if (page.status !== 200) throw new Error(`GET /authorize answered ${page.status}: ${html.slice(0, 300)}`);
  cookiesOf(page, jar);
  if (!jar.size) throw new Error('GET /authorize set no cookie');
  let form = parseForm(html, authorizationUrl);
  if (form.method !== 'post' || !form.hidden.csrf || !form.hasPassword) {
    throw new Error(`unexpected consent form: ${JSON.stringify({ ...form, action: String(form.action) })}`);
  }
  step(`consent page: 200, form posts to ${form.action.pathname}, ${Object.keys(form.hidden).length} hidden fields incl. csrf, password field`);

  const submit = (fields) =>
    fetch(form.action, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
      body: new URLSearchParams({ ...form.hidden, ...fields }),
    });

  const wrong = await submit({ password: wrongPassword, decision: 'approve' });
  const wrongHtml = await wrong.text();
  if (wrong.status !== 401) throw new Error(`wrong password answered ${wrong.status}, want 401: ${wrongHtml.slice(0, 300)}`);
  if (!/Wrong password/.test(wrongHtml)) throw new Error('wrong password: the page does not say so');
  cookiesOf(wrong, jar);
  form = parseForm(wrongHtml, authorizationUrl);
  if (!form.hidden.csrf || !form.hasPassword) throw new Error('wrong password: the form is not shown again');
  step('wrong password: 401, form shown again with "Wrong password."');

  const right = await submit({ password, decision: 'approve' });
  const body = await right.text();
  if (right.status !== 302) throw new Error(`right password answered ${right.status}, want 302: ${body.slice(0, 300)}`);
  const location = new URL(right.headers.get('location'));
  const params = Object.fromEntries(location.searchParams);
  if (params.error) throw new Error(`redirected with error ${params.error}: ${params.error_description}`);
  step(`right password: 302 to ${location.origin}${location.pathname} with ${Object.keys(params).sort().join(', ')}`);
  return { location, ...params };
}
