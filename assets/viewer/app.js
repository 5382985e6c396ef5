// The sessionlog viewer's page script. Routes: #/ (the list), #/search/<query>, #/s/<id>[/<entry id>].
// Every transcript string arrives either as text (set with textContent) or as HTML the server
// rendered safely (render.ts); nothing here turns transcript text into markup.

const main = document.getElementById('main');
const q = document.getElementById('q');
let view = { kind: 'none' };

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== undefined) node.append(child);
  return node;
};

async function api(path) {
  const res = await fetch(path, { credentials: 'same-origin' });
  const body = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new Error(body.error ?? res.statusText);
  return body;
}

const bytes = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1048576).toFixed(1)} MB`);
const count = (n) => (n < 1000 ? String(n) : n < 1e6 ? `${(n / 1000).toFixed(1)}k` : `${(n / 1e6).toFixed(1)}M`);
const when = (iso) => (iso ? iso.replace('T', ' ').slice(0, 16) : '');
const sessionHref = (id, entry) => `#/s/${encodeURIComponent(id)}${entry ? `/${encodeURIComponent(entry)}` : ''}`;

function showError(err) {
  main.replaceChildren(el('p', { class: 'error', text: `Could not load: ${err.message}` }));
}

// ---- the list -------------------------------------------------------------------------------

function filtersFromHash(params) {
  const out = new URLSearchParams();
  for (const key of ['cwd', 'model', 'title', 'since']) if (params.get(key)) out.set(key, params.get(key));
  return out;
}

function sessionRow(s) {
  const facts = [s.model, s.cwd].filter(Boolean).join(' · ');
  return el(
    'li',
    { class: 'session' },
    el('div', { class: 'line' }, el('a', { href: sessionHref(s.id), class: 'title', text: s.title || '(untitled)' }), el('span', { class: 'nums dim', text: `${when(s.updatedAt)} · ${s.entries} entries · ${count(s.tokens)} tokens · ${bytes(s.bytes)}` })),
    el(
      'div',
      { class: 'line small' },
      el('span', { class: 'facts dim', text: facts }),
      s.problems > 0 ? el('span', { class: 'badge error', text: `${s.problems} problem${s.problems === 1 ? '' : 's'}` }) : undefined,
      el('code', { class: 'id dim', text: s.id }),
    ),
  );
}

async function showList(params) {
  const filters = filtersFromHash(params);
  const form = el('form', { class: 'filters', id: 'filters' });
  for (const [key, label] of [['cwd', 'folder'], ['model', 'model'], ['title', 'title'], ['since', 'since (date)']]) {
    form.append(el('input', { name: key, placeholder: label, value: filters.get(key) ?? undefined, 'aria-label': label }));
  }
  form.append(el('button', { type: 'submit', text: 'Filter' }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const input of form.querySelectorAll('input')) if (input.value) next.set(input.name, input.value);
    location.hash = `#/?${next}`;
  });
  const list = el('ol', { class: 'sessions', id: 'sessions' });
  const more = el('button', { class: 'more', text: 'More sessions' });
  main.replaceChildren(form, list, more);
  view = { kind: 'list', list, filters };
  let cursor;
  let loading = false;
  more.hidden = true;
  const load = async () => {
    if (loading) return;
    loading = true;
    const query = new URLSearchParams(filters);
    query.set('limit', '100');
    if (cursor) query.set('cursor', cursor);
    const page = await api(`/api/sessions?${query}`);
    list.append(...page.sessions.map(sessionRow));
    cursor = page.nextCursor;
    more.hidden = cursor === undefined;
    loading = false;
    if (list.children.length === 0) list.append(el('li', { class: 'note', text: 'No sessions.' }));
  };
  more.addEventListener('click', () => load().catch(showError));
  // Load the next page when the button scrolls into view: paging stays cheap with 10,000 sessions.
  new IntersectionObserver((seen) => seen.some((s) => s.isIntersecting) && !more.hidden && more.click()).observe(more);
  await load();
}

// ---- search ---------------------------------------------------------------------------------

async function showSearch(query) {
  q.value = query;
  main.replaceChildren(el('p', { class: 'note', text: `Searching for “${query}”…` }));
  const { hits, more } = await api(`/api/search?q=${encodeURIComponent(query)}`);
  const list = el('ol', { class: 'hits' });
  for (const hit of hits) {
    const [a, b] = hit.match;
    const snippet = el('span', { class: 'snippet' }, hit.snippet.slice(0, a), el('mark', { text: hit.snippet.slice(a, b) }), hit.snippet.slice(b));
    list.append(el('li', {}, el('a', { href: sessionHref(hit.session, hit.entryId), text: hit.title || hit.session }), el('span', { class: 'dim', text: ` ${hit.role ?? ''} ${when(hit.ts)}` }), el('div', {}, snippet)));
  }
  const head = el('p', { class: 'note', text: `${hits.length}${more ? '+' : ''} hit${hits.length === 1 ? '' : 's'} for “${query}”` });
  main.replaceChildren(head, list);
  view = { kind: 'search' };
}

// ---- a session ------------------------------------------------------------------------------

function fragment(html) {
  // Server-rendered, safe HTML (render.ts); parsed inert in a template.
  const template = document.createElement('template');
  template.innerHTML = html;
  return template.content;
}

async function showSession(id, entry) {
  const query = entry ? `?at=${encodeURIComponent(entry)}` : '';
  const data = await api(`/api/session/${encodeURIComponent(id)}${query}`);
  const s = data.session;
  const u = data.usage;
  const head = el(
    'section',
    { class: 'session-head' },
    el('h1', { text: s.title || '(untitled)' }),
    el('p', { class: 'dim' }, el('code', { text: s.id }), ` · ${[s.model, s.cwd].filter(Boolean).join(' · ')}`),
    el('p', { class: 'dim', text: `${s.entries} entries · ${count(u.input)} in · ${count(u.output)} out · ${count(u.cacheRead + u.cacheWrite)} cached · ${bytes(s.bytes)} · created ${when(s.createdAt)} · updated ${when(s.updatedAt)}` }),
  );
  if (s.problems > 0) head.append(el('p', { class: 'error', text: `${s.problems} problem line${s.problems === 1 ? '' : 's'}: skipped, shown where they are (sessionlog repair)` }));
  if (s.parent) head.append(el('p', {}, 'Forked from ', el('a', { href: sessionHref(s.parent), text: s.parent })));
  if (data.children.length > 0) {
    const kids = el('ul', { class: 'children' });
    for (const child of data.children) kids.append(el('li', {}, el('a', { href: sessionHref(child.id), text: child.title || child.id })));
    head.append(el('details', {}, el('summary', { text: `${data.children.length} subagent${data.children.length === 1 ? '' : 's'} and forks` }), kids));
  }
  const earlier = el('button', { class: 'more', text: `${data.start} earlier entries` });
  earlier.hidden = data.start === 0;
  const entries = el('div', { class: 'entries', id: 'entries' });
  entries.append(fragment(data.problems), fragment(data.html));
  main.replaceChildren(head, earlier, entries);
  view = { kind: 'session', id, start: data.start, lastId: data.lastId, entries, earlier, atEnd: data.end === data.total };
  earlier.addEventListener('click', async () => {
    const older = await api(`/api/session/${encodeURIComponent(id)}?end=${view.start}`);
    entries.prepend(fragment(older.problems), fragment(older.html));
    view.start = older.start;
    earlier.textContent = `${older.start} earlier entries`;
    earlier.hidden = older.start === 0;
  });
  const target = entry ? document.getElementById(`e-${entry}`) : entries.lastElementChild;
  if (target) {
    target.scrollIntoView({ block: entry ? 'center' : 'end' });
    if (entry) target.classList.add('target');
  }
}

async function appendNew() {
  if (view.kind !== 'session' || !view.atEnd || !view.lastId) return void (view.kind === 'session' && !view.lastId && route());
  const stuck = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
  const data = await api(`/api/session/${encodeURIComponent(view.id)}/after?id=${encodeURIComponent(view.lastId)}`);
  if (data.count === 0) return;
  view.entries.append(fragment(data.html));
  view.lastId = data.lastId;
  if (stuck) view.entries.lastElementChild?.scrollIntoView({ block: 'end' });
}

// ---- live -----------------------------------------------------------------------------------

let refreshList;
const events = new EventSource('/api/events');
events.addEventListener('message', (message) => {
  const change = JSON.parse(message.data);
  if (view.kind === 'session' && change.id === view.id) appendNew().catch(() => undefined);
  if (view.kind === 'list' && window.scrollY < 200) {
    // The list is newest first: redraw its first page, at most every 300 ms.
    clearTimeout(refreshList);
    refreshList = setTimeout(() => route().catch(showError), 300);
  }
});

// ---- routing and keys -----------------------------------------------------------------------

async function route() {
  const hash = location.hash.slice(1) || '/';
  const [path, query = ''] = hash.split('?');
  const parts = path.split('/').map(decodeURIComponent);
  if (parts[1] === 's' && parts[2]) return showSession(parts[2], parts[3]);
  if (parts[1] === 'search' && parts[2]) return showSearch(parts[2]);
  return showList(new URLSearchParams(query));
}

document.getElementById('search').addEventListener('submit', (event) => {
  event.preventDefault();
  if (q.value.trim()) location.hash = `#/search/${encodeURIComponent(q.value.trim())}`;
});

function move(step) {
  const items = [...main.querySelectorAll(view.kind === 'session' ? 'article.entry' : 'li a:first-child')];
  if (items.length === 0) return;
  const current = items.indexOf(document.activeElement.closest('article.entry') ?? document.activeElement);
  const next = items[Math.max(0, Math.min(items.length - 1, current === -1 ? (step > 0 ? 0 : items.length - 1) : current + step))];
  next.focus();
  next.scrollIntoView({ block: 'nearest' });
}

document.addEventListener('keydown', (event) => {
  if (event.target instanceof HTMLInputElement) {
    if (event.key === 'Escape') event.target.blur();
    return;
  }
  if (event.key === '/') {
    event.preventDefault();
    q.focus();
  } else if (event.key === 'j') move(1);
  else if (event.key === 'k') move(-1);
  else if (event.key === 'Escape' && view.kind !== 'list') location.hash = '#/';
  else if (event.key === 'o' || event.key === 'Enter') {
    const details = document.activeElement?.querySelector?.('details');
    if (details && view.kind === 'session') details.open = !details.open;
  }
});

window.addEventListener('hashchange', () => route().catch(showError));
route().catch(showError);

// An entry's heading links to the entry: the address becomes #/s/<id>/<entry id>, shareable.
main.addEventListener('click', (event) => {
  const link = event.target.closest?.('a.role');
  if (!link || view.kind !== 'session') return;
  event.preventDefault();
  const article = link.closest('article.entry');
  history.replaceState(null, '', sessionHref(view.id, article.id.slice(2)));
  for (const old of main.querySelectorAll('.target')) old.classList.remove('target');
  article.classList.add('target');
});
