// Search page (/#/search?q=...&k=...): a query box, clip results with thumbnails (data: URIs from
// /v1/search), and a player: clicking a result plays its video from the clip's start, served with
// Range by /v1/videos/file. Live commentary hits link to their stream's page.
const params = new URLSearchParams(location.search);
const token = params.get('token');
const withToken = (path) => (token ? `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : path);
const authHeaders = token ? { Authorization: `Bearer ${token}` } : {};
const $ = (sel) => document.querySelector(sel);

const fmt = (sec) => `${Math.floor(sec / 60)}:${String(Math.floor(sec % 60)).padStart(2, '0')}`;
const fileName = (p) => p.split('/').pop();
let wired = false;
let lastHash = '';

async function run(q, k) {
  $('#search-error').textContent = '';
  const res = await fetch(withToken(`/v1/search?q=${encodeURIComponent(q)}&k=${k}`), { headers: authHeaders });
  const body = await res.json();
  if (!res.ok) {
    $('#search-error').textContent = `${body.error.code}: ${body.error.message}`;
    return;
  }
  const list = $('#search-results');
  list.replaceChildren();
  if (body.results.length === 0 && body.live.length === 0) $('#search-error').textContent = 'No results: nothing indexed yet? Index a video below or with `sightline index`.';
  for (const r of body.results) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.className = 'result';
    button.title = `play ${r.video} from ${fmt(r.start)}`;
    const img = document.createElement('img');
    img.src = r.thumbnail;
    img.alt = `${fileName(r.video)} at ${fmt(r.start)}`;
    const meta = document.createElement('span');
    // SigLIP models with a known logit scale and bias also give their match probability (docs/byo-models.md).
    const p = typeof r.probability === 'number' ? ` · p=${r.probability.toFixed(2)}` : '';
    meta.textContent = `${fileName(r.video)} · ${fmt(r.start)}-${fmt(r.end)} · ${r.score.toFixed(3)}${p}`;
    button.append(img, meta);
    button.onclick = () => play(r);
    li.append(button);
    list.append(li);
  }
  const live = $('#live-results');
  live.replaceChildren();
  $('#live-heading').hidden = body.live.length === 0;
  for (const l of body.live) {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = `${withToken('/')}#/stream/${l.stream}`;
    a.textContent = `${l.stream} ${fmt(l.start)}`;
    li.append(a, document.createTextNode(` ${l.text}`));
    live.append(li);
  }
}

function play(r) {
  const video = $('#search-video');
  const src = withToken(r.url);
  const seek = () => {
    video.currentTime = r.start;
    video.play().catch(() => {});
  };
  if (video.dataset.src !== src) {
    video.dataset.src = src;
    video.src = src;
    video.addEventListener('loadedmetadata', seek, { once: true });
  } else seek();
  $('#playing').textContent = `${r.video} from ${fmt(r.start)} (clip ${fmt(r.start)}-${fmt(r.end)})`;
}

function wire() {
  wired = true;
  $('#search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target);
    location.hash = `#/search?q=${encodeURIComponent(form.get('q'))}&k=${form.get('k') || 10}`;
  });
  $('#index-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const path = new FormData(ev.target).get('path');
    $('#index-status').textContent = `indexing ${path} ...`;
    const res = await fetch(withToken('/v1/videos'), { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders }, body: JSON.stringify({ path }) });
    const body = await res.json();
    $('#index-status').textContent = res.ok
      ? body.indexed ? `indexed ${body.video}: ${body.clips} clips` : `${body.video}: ${body.skipped}`
      : `${body.error.code}: ${body.error.message}`;
  });
}

/** Called by app.js on every #/search... route. */
export function showSearch(hash) {
  if (!wired) wire();
  if (hash === lastHash) return;
  lastHash = hash;
  const q = new URLSearchParams(hash.split('?')[1] ?? '');
  if (!q.get('q')) return;
  $('#search-q').value = q.get('q');
  const k = Number(q.get('k') || 10);
  $('#search-form').elements.k.value = String(k);
  void run(q.get('q'), k);
}
