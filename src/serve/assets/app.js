// vidbatch serve: the dashboard's script. It polls /api/version (the ledger's newest event id)
// twice a second and reads the rest again only when that moved, so the page follows a run
// within about a second without a reload. Every text from the ledger goes into the page as a
// text node (never as HTML); the page replaces what it drew, so it keeps no growing state.
'use strict';

const k_poll_ms = 500;
const k_page = 120;        // cards per page of the contact sheet
const k_feed_lines = 30;   // changes kept in the "recent changes" list
const k_states = ['queued', 'submitting', 'submitted', 'running', 'ready', 'downloading', 'done',
                  'failed', 'canceled', 'ambiguous'];

const app = {
  version: -1,          // the ledger version last drawn
  batch: null,          // the batch shown
  batches: [],
  limit: k_page,
  filters: {state: '', provider: '', model: '', mismatched: false},
  counts: null,         // the batch's state counts last drawn, for the change list
  feed: [],
  cards: new Map(),     // job id -> {node, sig}
  view: '',             // 'batch' | 'job'
  refreshing: false,
  again: false,         // a refresh was asked for while one ran
};

// ---- helpers ---------------------------------------------------------------

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === 'text') {
      node.textContent = value;
    } else if (key === 'class') {
      node.className = value;
    } else if (key === 'style') {
      node.style.cssText = value;  // through the CSSOM: the policy refuses style attributes
    } else if (key.startsWith('on')) {
      node.addEventListener(key.slice(2), value);
    } else {
      node.setAttribute(key, value);
    }
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(child);
    }
  }
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) {
    node.setAttribute(key, value);
  }
  return node;
}

async function getJSON(path, params) {
  const query = params ? '?' + new URLSearchParams(params).toString() : '';
  const answer = await fetch(path + query, {cache: 'no-store'});
  const body = await answer.json();
  if (!answer.ok) {
    throw new Error(body.error || ('HTTP ' + answer.status));
  }
  return body;
}

function usd(value) {
  return value === null || value === undefined ? 'unknown' : '$' + value.toFixed(2);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) {
    return '\u2013';
  }
  if (seconds < 60) {
    return Math.round(seconds) + ' s';
  }
  if (seconds < 3600) {
    return Math.floor(seconds / 60) + ' min ' + String(Math.round(seconds % 60)).padStart(2, '0') + ' s';
  }
  return Math.floor(seconds / 3600) + ' h ' + String(Math.floor(seconds % 3600 / 60)).padStart(2, '0') + ' min';
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString();
}

function mediaUrl(kind, batch, id) {
  return '/media/' + kind + '?' + new URLSearchParams({batch, id}).toString();
}

function stateBadge(state) {
  return el('span', {class: 'badge s-' + state, text: state});
}

function verifyBadge(verify, detail) {
  if (!verify) {
    return null;
  }
  if (verify === 'ok') {
    return el('span', {class: 'badge ok', title: 'matches what was asked', text: 'verified'});
  }
  return el('span', {class: 'badge off', title: detail, text: verify});
}

function tile(key, value, detail) {
  return el('div', {class: 'tile'}, el('div', {class: 'k', text: key}),
            el('div', {class: 'v', text: value}), detail ? el('div', {class: 'd', text: detail}) : null);
}

function setLive(ok, text) {
  const live = document.getElementById('live');
  live.className = 'live ' + (ok ? 'on' : 'off');
  live.textContent = text;
}

// ---- routing ---------------------------------------------------------------

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'job' && parts.length >= 3) {
    return {view: 'job', batch: parts[1], id: parts.slice(2).join('/')};
  }
  if (parts[0] === 'batch' && parts[1]) {
    return {view: 'batch', batch: parts[1]};
  }
  return {view: 'batch', batch: null};
}

function jobLink(batch, id) {
  return '#/job/' + encodeURIComponent(batch) + '/' + encodeURIComponent(id);
}

// ---- the batch view --------------------------------------------------------

function skeleton() {
  const view = document.getElementById('view');
  app.cards.clear();
  const filters = el('div', {class: 'filters', id: 'filters'});
  view.replaceChildren(
      el('h1', {id: 'title'}), el('p', {class: 'sub', id: 'subtitle'}),
      el('div', {class: 'progress', id: 'bar'}), el('div', {class: 'states', id: 'states'}),
      el('section', {class: 'tiles', id: 'tiles', 'aria-label': 'summary'}),
      el('h2', {text: 'Videos done over time'}), el('section', {class: 'chart', id: 'chart'}),
      el('section', {id: 'problems'}),
      el('h2', {text: 'Recent changes'}), el('ul', {class: 'feed', id: 'feed'}),
      el('h2', {text: 'Contact sheet'}), filters,
      el('p', {class: 'sub', id: 'shown'}),
      el('section', {class: 'sheet', id: 'sheet', 'aria-label': 'contact sheet'}),
      el('button', {class: 'more', id: 'more', hidden: '', text: 'show more',
                    onclick: () => { app.limit += k_page; refresh(); }}));
}

function drawSummary(data) {
  const done = data.states.done;
  document.title = done + '/' + data.total + ' done \u00b7 ' + data.batch + ' \u00b7 vidbatch';
  document.getElementById('title').textContent = 'Batch ' + data.batch;
  document.getElementById('subtitle').textContent =
      data.finished + ' of ' + data.total + ' finished (' + done + ' done), ' + data.remaining +
      ' still to go; updated ' + clock(data.now);
  const bar = document.getElementById('bar');
  bar.replaceChildren(...k_states.filter((s) => data.states[s] > 0).map((s) =>
      el('span', {class: 's-' + s, title: s + ' ' + data.states[s],
                  style: 'width:' + (100 * data.states[s] / data.total) + '%'})));
  document.getElementById('states').replaceChildren(...k_states.filter((s) => data.states[s] > 0)
      .map((s) => el('span', {class: 'badge s-' + s, 'data-state': s, text: s + ' ' + data.states[s]})));
  const rate = data.rate.per_minute === null ? '\u2013' : data.rate.per_minute.toFixed(1) + ' / min';
  const cost = data.cost;
  const budget = cost.budget_usd === null ? 'no budget' : 'budget ' + usd(cost.budget_usd);
  document.getElementById('tiles').replaceChildren(
      tile('done', done + ' / ' + data.total, data.states.failed + ' failed, ' +
           data.states.ambiguous + ' ambiguous'),
      tile('rate', rate, 'from the videos finished lately'),
      tile('time left', data.remaining === 0 ? 'finished' : duration(data.rate.eta_s),
           data.remaining + ' job(s) to go at that rate'),
      tile('cost so far', usd(cost.so_far_usd), 'of ' + usd(cost.estimate_usd) + ' estimated; ' +
           budget + (cost.unpriced > 0 ? '; ' + cost.unpriced + ' unpriced' : '')),
      tile('verified', (data.verified - data.mismatched) + ' ok',
           data.mismatched + ' not what was asked'),
      tile('paid, unclaimed', String(data.unclaimed.length), 'videos no job holds'));
  drawChart(data.rate.series);
}

function drawChart(series) {
  const chart = document.getElementById('chart');
  if (series.length < 2) {
    chart.replaceChildren(el('p', {class: 'sub', text: 'No video finished yet.'}));
    return;
  }
  const w = 960, h = 140, pad = 24;
  const t0 = series[0][0], t1 = Math.max(series[series.length - 1][0], t0 + 1);
  const top = Math.max(1, series[series.length - 1][1]);
  const points = series.map(([t, n]) => (pad + (w - 2 * pad) * (t - t0) / (t1 - t0)).toFixed(1) + ',' +
                                        (h - pad - (h - 2 * pad) * n / top).toFixed(1)).join(' ');
  const root = svg('svg', {viewBox: '0 0 ' + w + ' ' + h, role: 'img'});
  root.append(svg('line', {x1: pad, x2: w - pad, y1: h - pad, y2: h - pad, stroke: '#94a3b8'}),
              svg('polyline', {points, fill: 'none', stroke: '#22c55e', 'stroke-width': 2.5}));
  const label = svg('text', {x: pad, y: 14, 'font-size': 12, fill: '#64748b'});
  label.textContent = top + ' video(s) done, ' + duration((t1 - t0) / 1000) + ' since the first';
  root.append(label);
  chart.replaceChildren(root);
}

function table(head, rows) {
  return el('table', {}, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {text: h})))),
            el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((c) =>
                el('td', {}, c))))));
}

function drawProblems(data) {
  const parts = [];
  if (data.failures.length > 0) {
    parts.push(el('h2', {text: 'Failures by reason'}), table(['reason', 'jobs', 'message', 'examples'],
        data.failures.map((f) => [el('code', {text: f.code}), String(f.count), f.message,
                                  f.jobs.join(', ')])));
  }
  if (data.ambiguous.length > 0) {
    parts.push(el('h2', {text: 'Ambiguous jobs: a decision is needed'}),
               table(['job', 'attempts', 'what to do'], data.ambiguous.map((a) =>
                   [el('a', {href: jobLink(data.batch, a.id), text: a.id}), String(a.attempts), a.todo])));
  }
  if (data.unclaimed.length > 0) {
    parts.push(el('h2', {text: 'Paid, unclaimed videos'}),
               table(['job', 'remote id', 'status', 'cost', 'what to do'], data.unclaimed.map((u) =>
                   [u.id, u.remote_id, u.status, usd(u.cost_usd), u.todo])));
  }
  document.getElementById('problems').replaceChildren(...parts);
}

function noteChanges(data) {
  if (app.counts !== null) {
    const moved = k_states.filter((s) => data.states[s] !== app.counts[s])
        .map((s) => s + ' ' + app.counts[s] + ' \u2192 ' + data.states[s]);
    if (moved.length > 0) {
      app.feed.unshift(clock(data.now) + '  ' + moved.join(', '));
      app.feed.length = Math.min(app.feed.length, k_feed_lines);
    }
  }
  app.counts = data.states;
  document.getElementById('feed').replaceChildren(...(app.feed.length > 0
      ? app.feed.map((line) => el('li', {text: line}))
      : [el('li', {text: 'Nothing changed since this page opened.'})]));
}

function drawFilters(data) {
  const filters = document.getElementById('filters');
  const select = (name, label, options) => {
    const node = el('select', {'aria-label': label, id: 'filter-' + name,
                               onchange: (e) => { app.filters[name] = e.target.value; app.limit = k_page; refresh(); }},
                    el('option', {value: '', text: 'any ' + label}),
                    ...options.map((o) => el('option', {value: o, text: o})));
    node.value = app.filters[name];
    return node;
  };
  const mismatched = el('input', {type: 'checkbox', id: 'filter-mismatched',
                                  onchange: (e) => { app.filters.mismatched = e.target.checked; app.limit = k_page; refresh(); }});
  mismatched.checked = app.filters.mismatched;
  filters.replaceChildren(select('state', 'state', k_states), select('provider', 'provider', data.providers),
                          select('model', 'model', data.models),
                          el('label', {}, mismatched, ' only videos that are not what was asked'));
}

function cardOf(batch, job) {
  const media = el('div', {class: 'media', title: job.video ? 'play' : ''});
  if (job.poster) {
    // An image the browser cannot decode goes, leaving the play sign on black.
    media.append(el('img', {src: mediaUrl('poster', batch, job.id), alt: 'poster of ' + job.id, loading: 'lazy',
                            onerror: (e) => e.target.remove()}));
  }
  if (job.video) {
    media.append(el('span', {class: 'play', text: '\u25b6'}));
    media.addEventListener('click', () => {
      media.replaceChildren(el('video', {src: mediaUrl('video', batch, job.id), controls: '', autoplay: '',
                                         preload: 'metadata'}));
    }, {once: true});
  } else if (!job.poster) {
    media.append(el('div', {class: 'placeholder', text: job.state === 'done' ? 'video file missing' : job.state}));
  }
  const error = job.error_code || job.error_message
      ? el('p', {class: 'error', text: (job.error_code ? job.error_code + ': ' : '') + job.error_message}) : null;
  const mismatch = job.verify && job.verify !== 'ok' && job.state === 'done'
      ? el('p', {class: 'mismatch', text: job.verify_detail}) : null;
  return el('article', {class: 'card', id: 'card-' + job.id, 'data-state': job.state, 'data-verify': job.verify},
      media,
      el('div', {class: 'body'},
         el('header', {}, el('h3', {}, el('a', {href: jobLink(batch, job.id), text: job.id})),
            el('span', {class: 'badges'}, stateBadge(job.state), verifyBadge(job.verify, job.verify_detail))),
         el('p', {class: 'prompt', text: job.prompt}),
         el('div', {class: 'meta', text: job.model + ' \u00b7 ' + job.size + ' \u00b7 ' + job.seconds + ' s \u00b7 ' +
                                    job.provider + ' \u00b7 attempt ' + job.attempts +
                                    (job.progress !== null ? ' \u00b7 ' + Math.round(job.progress) + ' %' : '')}),
         error, mismatch));
}

// Cards are kept while their job is unchanged: a playing video keeps playing.
function drawSheet(batch, data) {
  const sheet = document.getElementById('sheet');
  const seen = new Set();
  const nodes = data.jobs.map((job) => {
    const sig = JSON.stringify(job);
    seen.add(job.id);
    const known = app.cards.get(job.id);
    if (known && known.sig === sig) {
      return known.node;
    }
    const node = cardOf(batch, job);
    app.cards.set(job.id, {node, sig});
    return node;
  });
  for (const id of [...app.cards.keys()]) {
    if (!seen.has(id)) {
      app.cards.delete(id);
    }
  }
  sheet.replaceChildren(...nodes);
  document.getElementById('shown').textContent = data.total === 0 ? 'No job matches.'
      : 'Showing ' + data.jobs.length + ' of ' + data.total + ' matching job(s).';
  document.getElementById('more').hidden = data.jobs.length >= data.total;
}

async function refreshBatch() {
  const data = await getJSON('/api/batch', {name: app.batch});
  const query = {batch: app.batch, limit: String(app.limit)};
  for (const key of ['state', 'provider', 'model']) {
    if (app.filters[key]) {
      query[key] = app.filters[key];
    }
  }
  if (app.filters.mismatched) {
    query.mismatched = '1';
  }
  const jobs = await getJSON('/api/jobs', query);
  drawSummary(data);
  drawProblems(data);
  noteChanges(data);
  drawFilters(data);
  drawSheet(app.batch, jobs);
  return data.version;
}

// ---- the job view ----------------------------------------------------------

async function refreshJob(batch, id) {
  const job = await getJSON('/api/job', {batch, id});
  const view = document.getElementById('view');
  document.title = id + ' (' + job.state + ') \u00b7 vidbatch';
  let player = document.getElementById('player');
  if (!player || player.dataset.job !== batch + '/' + id || player.dataset.video !== String(job.video)) {
    player = el('div', {class: 'player', id: 'player', 'data-job': batch + '/' + id, 'data-video': String(job.video)});
    if (job.video) {
      player.append(el('video', {src: mediaUrl('video', batch, id), controls: '', preload: 'metadata',
                                 poster: job.poster ? mediaUrl('poster', batch, id) : ''}));
    } else {
      player.hidden = true;
    }
  }
  const rows = [['state', job.state], ['provider', job.provider], ['size sent', job.size_sent],
                ['remote id', job.remote_id], ['attempts', String(job.attempts)],
                ['progress', job.progress !== null ? Math.round(job.progress) + ' %' : ''],
                ['polls / retries', job.polls + ' / ' + job.retries], ['file', job.output_path],
                ['bytes', String(job.bytes)], ['sha256', job.sha256],
                ['error', job.error_code ? job.error_code + ': ' + job.error_message : job.error_message]];
  if (job.check) {
    const p = job.check.probe;
    rows.push(['verify', job.check.verdict + (job.check.mismatches.length ? ': ' + job.check.mismatches.join('; ') : '')]);
    if (p) {
      rows.push(['probe', p.width + 'x' + p.height + ', ' + p.duration_s + ' s, ' + p.frame_rate + ' fps, ' +
                          p.video_codec + (p.audio_codec ? ' + ' + p.audio_codec : ', no audio') + ' (' + p.container + ')']);
    }
  }
  const spec = el('dl', {class: 'spec', id: 'job-details'}, ...rows.filter((r) => r[1]).flatMap(([k, v]) =>
      [el('dt', {text: k}), el('dd', {text: v})]));
  const events = table(['time', 'from', 'to', 'HTTP', 'message'], job.events.map((e) =>
      [new Date(e.at).toLocaleString(), e.from || '', stateBadge(e.to), e.http_status ? String(e.http_status) : '',
       e.message]));
  events.id = 'timeline';
  view.replaceChildren(
      el('p', {}, el('a', {href: '#/batch/' + encodeURIComponent(batch), text: '\u2190 batch ' + batch})),
      el('h1', {}, id + ' ', stateBadge(job.state), ' ', verifyBadge(job.check ? job.check.verdict : '', '')),
      player, el('h2', {text: 'Request'}), el('pre', {class: 'request', text: JSON.stringify(job.spec, null, 2)}),
      el('h2', {text: 'Ledger'}), spec, el('h2', {text: 'Timeline'}), events);
}

// ---- the loop --------------------------------------------------------------

async function loadBatches() {
  const data = await getJSON('/api/batches');
  app.batches = data.batches;
  const select = document.getElementById('batch');
  const names = data.batches.map((b) => b.name);
  if (select.options.length !== names.length || names.some((n, i) => select.options[i].value !== n)) {
    select.replaceChildren(...data.batches.map((b) => el('option', {value: b.name, text: b.name})));
  }
  return data;
}

// One refresh at a time; one asked for meanwhile (a filter, a link) runs right after it.
async function refresh() {
  if (app.refreshing) {
    app.again = true;
    return;
  }
  app.refreshing = true;
  try {
    await redraw();
  } finally {
    app.refreshing = false;
  }
  if (app.again) {
    app.again = false;
    await refresh();
  }
}

// Draws what the address asks for: a job, or a batch (the active one when none is named).
async function redraw() {
  const where = route();
  const batches = await loadBatches();
  if (batches.batches.length === 0) {
    document.getElementById('view').replaceChildren(el('p', {class: 'note', text: 'No jobs in the ledger yet.'}));
    app.version = batches.version;
    return;
  }
  const active = batches.batches.find((b) => b.active > 0) || batches.batches[batches.batches.length - 1];
  const batch = where.batch || active.name;
  document.getElementById('batch').value = batch;
  if (where.view === 'job') {
    app.view = 'job';
    await refreshJob(where.batch, where.id);
    app.version = batches.version;
    return;
  }
  if (app.view !== 'batch' || app.batch !== batch) {
    app.view = 'batch';
    app.batch = batch;
    app.counts = null;
    app.feed = [];
    app.limit = k_page;
    skeleton();
  }
  app.version = await refreshBatch();
}

async function poll() {
  try {
    const {version} = await getJSON('/api/version');
    if (version !== app.version) {
      await refresh();
    }
    setLive(true, 'live \u00b7 ' + new Date().toLocaleTimeString());
  } catch (error) {
    setLive(false, 'not connected: ' + error.message);
  }
  setTimeout(poll, k_poll_ms);
}

document.getElementById('batch').addEventListener('change', (e) => {
  location.hash = '#/batch/' + encodeURIComponent(e.target.value);
});
window.addEventListener('hashchange', () => { app.view = ''; refresh().catch((e) => setLive(false, e.message)); });
poll();
