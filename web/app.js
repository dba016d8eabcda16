// Sightline live page: stream list + start form (/), a stream view (/#/stream/<id>) and video search
// (/#/search?q=..., in search.js).
// Video and commentary are synchronised on stream time: frames carry ptsSec, commentary carries
// [start, end). The page plays frames PLAYOUT_DELAY_SEC behind the newest one received, and shows a
// commentary line when the picture reaches its start second.
import { showSearch } from './search.js';

const PLAYOUT_DELAY_SEC = 1.0;
/** If the newest frame is this far ahead of the picture, jump forward (keep delay low). */
const MAX_BEHIND_SEC = 3.0;
const LAGGING_SEC = 2.0;
const MAX_TIMELINE_ITEMS = 500;

const params = new URLSearchParams(location.search);
const token = params.get('token');
const withToken = (path) => (token ? `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : path);
const authHeaders = token ? { Authorization: `Bearer ${token}` } : {};
const $ = (sel) => document.querySelector(sel);

function fmtTime(sec) {
  const s = Math.max(0, Math.floor(sec));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

// ---------- home: list + form ----------
async function refreshList() {
  const res = await fetch(withToken('/v1/streams'), { headers: authHeaders });
  const body = await res.json();
  const tbody = $('#streams tbody');
  tbody.replaceChildren();
  for (const s of body.streams ?? []) {
    const tr = document.createElement('tr');
    const cells = [s.id, s.source, s.state, String(s.segments), new Date(s.createdAt).toLocaleTimeString()];
    for (const [i, text] of cells.entries()) {
      const td = document.createElement('td');
      if (i === 0) {
        const a = document.createElement('a');
        a.href = withToken(`/`) + `#/stream/${s.id}`;
        a.textContent = text;
        td.append(a);
      } else td.textContent = text;
      if (i === 1) td.className = 'source';
      if (i === 2) td.innerHTML = `<span class="badge ${s.state}">${s.state}</span>`;
      tr.append(td);
    }
    const td = document.createElement('td');
    if (s.state !== 'ended' && s.state !== 'failed') {
      const stop = document.createElement('button');
      stop.textContent = 'Stop';
      stop.className = 'danger';
      stop.onclick = async () => {
        await fetch(withToken(`/v1/streams/${s.id}`), { method: 'DELETE', headers: authHeaders });
        refreshList();
      };
      td.append(stop);
    }
    tr.append(td);
    tbody.append(tr);
  }
}

$('#start-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const body = { source: form.get('source'), fps: Number(form.get('fps') || 2) };
  if (form.get('prompt')) body.prompt = form.get('prompt');
  const res = await fetch(withToken('/v1/streams'), { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders }, body: JSON.stringify(body) });
  const out = await res.json();
  if (!res.ok) {
    $('#form-error').textContent = `${out.error.code}: ${out.error.message}`;
    return;
  }
  $('#form-error').textContent = '';
  location.hash = `#/stream/${out.id}`;
});

// ---------- stream view ----------
let view = null;

class StreamView {
  constructor(id) {
    this.id = id;
    this.frames = []; // {pts, url} in pts order, not yet shown
    this.offsetSec = null; // wallSec - offsetSec = stream time on screen
    this.shownPts = -1;
    this.commentary = []; // {start, end, text, li} waiting for the picture
    this.lastSeq = -1;
    this.state = 'connecting';
    this.ended = false;
    this.stopped = false;
    this.retryMs = 500;
    $('#stream-title').textContent = id;
    $('#timeline').replaceChildren();
    $('#caption').textContent = '';
    for (const ext of ['vtt', 'srt', 'jsonl']) $(`#dl-${ext}`).href = withToken(`/v1/streams/${id}/commentary.${ext}`);
    $('#model-note').textContent = '';
    $('#ood-note').hidden = true;
    this.showModel();
    this.connect();
    this.connectVideo();
    this.raf = requestAnimationFrame(() => this.tick());
  }

  /** Names the commentator and what it knows (GET /v1/streams/:id `model`, known once the stream started). */
  async showModel(attempt = 0) {
    const res = await fetch(withToken(`/v1/streams/${this.id}`), { headers: authHeaders }).catch(() => null);
    const info = res && res.ok ? await res.json() : null;
    if (this.stopped) return;
    if (!info?.model) {
      if (attempt < 10 && !this.ended) setTimeout(() => this.showModel(attempt + 1), 1000);
      return;
    }
    const m = info.model;
    $('#model-note').textContent = m.knows
      ? `Commentator: ${m.name}, trained on ${m.knows}. On other pictures it stays silent and says out_of_domain.`
      : `Commentator: ${m.name} (no out-of-domain signal: it comments on any picture, whether or not it knows it).`;
  }

  wsUrl(kind) {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    return withToken(`${proto}://${location.host}/v1/streams/${this.id}/${kind}`);
  }

  connect() {
    // Resume: the server sends only the history after the last seq we have.
    const url = this.wsUrl('ws');
    const ws = new WebSocket(this.lastSeq >= 0 ? `${url}${url.includes('?') ? '&' : '?'}after=${this.lastSeq}` : url);
    this.ws = ws;
    ws.onmessage = (ev) => this.onMessage(JSON.parse(ev.data));
    ws.onopen = () => { this.retryMs = 500; };
    ws.onclose = (ev) => {
      if (this.stopped || this.ended) return;
      this.setBadge('reconnecting', ev.reason || `connection closed (${ev.code})`);
      setTimeout(() => !this.stopped && this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
  }

  connectVideo() {
    const ws = new WebSocket(this.wsUrl('video'));
    ws.binaryType = 'arraybuffer';
    this.video = ws;
    ws.onmessage = (ev) => {
      const view = new DataView(ev.data);
      const pts = view.getFloat64(0, true);
      const url = URL.createObjectURL(new Blob([ev.data.slice(16)], { type: 'image/jpeg' }));
      const nowSec = performance.now() / 1000;
      if (this.offsetSec === null) this.offsetSec = nowSec - pts + PLAYOUT_DELAY_SEC;
      // Low delay: if we fall far behind the newest frame, jump forward.
      if (pts - (nowSec - this.offsetSec) > MAX_BEHIND_SEC) this.offsetSec = nowSec - pts + PLAYOUT_DELAY_SEC;
      this.frames.push({ pts, url });
    };
    ws.onclose = () => {
      if (!this.stopped && !this.ended) setTimeout(() => !this.stopped && this.connectVideo(), 1000);
    };
  }

  /** Stream time on screen: from the video clock, or the newest commentary when there is no video. */
  screenTime() {
    if (this.offsetSec === null) return Infinity;
    return performance.now() / 1000 - this.offsetSec;
  }

  onMessage(msg) {
    if (msg.type === 'hello') return;
    if (msg.type === 'pong') return;
    if (msg.seq !== undefined && msg.seq >= 0) {
      if (msg.seq <= this.lastSeq) return; // already seen (reconnect replays history)
      this.lastSeq = msg.seq;
    }
    if (msg.type === 'commentary') {
      if (msg.text.trim() === '...' || !msg.text.trim()) return;
      this.commentary.push({ start: msg.start, end: msg.end, text: msg.text });
    } else if (msg.type === 'status') {
      const state = msg.state === 'live' && msg.lagSec > LAGGING_SEC ? 'lagging' : msg.state;
      this.setBadge(state, msg.state === 'reconnecting' ? `${msg.reason ?? 'source lost'} (attempt ${msg.attempt ?? 0})` : msg.reason ?? '');
      const ood = $('#ood-note');
      ood.hidden = msg.state !== 'out_of_domain';
      if (!ood.hidden) ood.textContent = `Out of domain: ${msg.reason ?? 'the picture is not the world this model knows'}. Commentary resumes when it is.`;
      $('#stats').textContent = `t=${msg.time.toFixed(1)} s · ingest ${msg.ingestFps.toFixed(1)} fps · drops ${msg.drops} · lag ${msg.lagSec.toFixed(2)} s · step ${msg.stepLatencyMs.toFixed(0)} ms · cache ${(msg.cacheBytes / 1024).toFixed(0)} KiB`;
    } else if (msg.type === 'gap') {
      // reasons starting "skipped" are seconds the server skipped to stay live; the others had no picture
      const kind = msg.reason.startsWith('skipped') ? 'skipped' : 'no signal';
      this.commentary.push({ start: msg.start, end: msg.end, text: `[${kind} ${(msg.end - msg.start).toFixed(0)} s: ${msg.reason}]` });
    } else if (msg.type === 'error') {
      this.setBadge(this.state, `${msg.code}: ${msg.message}`);
    } else if (msg.type === 'end') {
      this.ended = true;
      this.setBadge('ended');
      // Nothing more will come: show everything still waiting for the picture.
      this.offsetSec = this.offsetSec ?? 0;
      for (const c of this.commentary) this.showCommentary(c);
      this.commentary = [];
    }
  }

  setBadge(state, title = '') {
    this.state = state;
    const badge = $('#badge');
    badge.className = `badge ${state}`;
    badge.textContent = state;
    badge.title = title;
  }

  showCommentary(c) {
    const li = document.createElement('li');
    li.innerHTML = `<time>${fmtTime(c.start)}</time>`;
    li.append(document.createTextNode(c.text));
    li.dataset.start = String(c.start);
    const list = $('#timeline');
    list.querySelector('li.current')?.classList.remove('current');
    li.classList.add('current');
    list.append(li);
    while (list.children.length > MAX_TIMELINE_ITEMS) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
    $('#caption').textContent = c.text;
  }

  tick() {
    if (this.stopped) return;
    const t = this.screenTime();
    let next = null;
    while (this.frames.length && this.frames[0].pts <= t) {
      if (next) URL.revokeObjectURL(next.url);
      next = this.frames.shift();
    }
    if (next) {
      const img = $('#frame');
      const old = img.src;
      img.src = next.url;
      img.dataset.pts = String(next.pts);
      this.shownPts = next.pts;
      if (old.startsWith('blob:')) setTimeout(() => URL.revokeObjectURL(old), 1000);
    }
    if (Number.isFinite(t)) $('#clock').textContent = fmtTime(t);
    // Commentary waits until the picture reaches its second (no video yet: show on arrival).
    while (this.commentary.length && (this.offsetSec === null || this.commentary[0].start <= t)) this.showCommentary(this.commentary.shift());
    this.raf = requestAnimationFrame(() => this.tick());
  }

  close() {
    this.stopped = true;
    cancelAnimationFrame(this.raf);
    this.ws?.close();
    this.video?.close();
    for (const f of this.frames) URL.revokeObjectURL(f.url);
  }
}

function route() {
  view?.close();
  view = null;
  const m = /^#\/stream\/([a-z0-9_-]+)$/.exec(location.hash);
  const searching = location.hash.startsWith('#/search');
  $('#search').hidden = !searching;
  if (searching) {
    $('#home').hidden = true;
    $('#viewer').hidden = true;
    showSearch(location.hash);
    return;
  }
  $('#home').hidden = Boolean(m);
  $('#viewer').hidden = !m;
  if (m) view = new StreamView(m[1]);
  else refreshList();
}

window.addEventListener('hashchange', route);
setInterval(() => { if (!view && $('#search').hidden) refreshList(); }, 5000);
route();
