// The migration control page: plain DOM, no framework, no build step. Everything it shows
// comes from the token-protected admin API; every change goes through it too (the server
// checks the token, applies the change on every instance and writes the audit log).

(() => {
  const POLL_MS = 1000;
  const SLOW_EVERY = 5; // audit and cache every 5th poll
  const RING = 60; // polls kept per route × backend for the sparklines

  const $ = (id) => document.getElementById(id);
  const store = window.sessionStorage;

  const state = {
    token: store.getItem('pilot.adminToken') || '',
    who: store.getItem('pilot.adminUser') || '',
    windowS: Number(store.getItem('pilot.window') || 10),
    table: null,
    /** The table version this page's last action produced (not announced again as a reload). */
    ownVersion: null,
    stats: null,
    signature: '',
    rings: new Map(),
    cachePrev: null,
    cache: null,
    ticks: 0,
    pollError: '',
    actionError: '',
    busy: false,
    timer: 0,
    ticking: false,
    again: false,
    builtVersion: '',
  };

  // ------------------------------------------------------------------ small DOM helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const SVG = 'http://www.w3.org/2000/svg';
  function sparkline(values, label) {
    const w = 84;
    const h = 22;
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    svg.setAttribute('width', String(w));
    svg.setAttribute('height', String(h));
    svg.setAttribute('role', 'img');
    svg.setAttribute('class', 'spark');
    const nums = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
    const max = Math.max(0, ...nums);
    const min = 0;
    const title = document.createElementNS(SVG, 'title');
    title.textContent =
      nums.length === 0
        ? `${label}: no data yet`
        : `${label}: last ${fmt(nums[nums.length - 1])}, max ${fmt(max)} over ${nums.length} polls`;
    svg.append(title);
    svg.setAttribute('aria-label', title.textContent);
    const base = document.createElementNS(SVG, 'line');
    base.setAttribute('x1', '0');
    base.setAttribute('x2', String(w));
    base.setAttribute('y1', String(h - 1));
    base.setAttribute('y2', String(h - 1));
    base.setAttribute('class', 'spark-base');
    svg.append(base);
    if (values.length > 1) {
      const step = w / (RING - 1);
      const offset = w - (values.length - 1) * step;
      const pts = values.map((v, i) => {
        const y = typeof v === 'number' && max > min ? h - 2 - ((v - min) / (max - min)) * (h - 4) : h - 2;
        return `${(offset + i * step).toFixed(1)},${y.toFixed(1)}`;
      });
      const line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('points', pts.join(' '));
      line.setAttribute('class', 'spark-line');
      svg.append(line);
    }
    return svg;
  }

  function fmt(n) {
    if (n === null || n === undefined || Number.isNaN(n)) return '–';
    if (n === 0) return '0';
    if (Math.abs(n) < 10) return n.toFixed(2);
    if (Math.abs(n) < 100) return n.toFixed(1);
    return String(Math.round(n));
  }
  const pct = (r) => (r === null || r === undefined ? '–' : `${(r * 100).toFixed(1)}%`);
  const time = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : '–');
  const weightsText = (w) =>
    Object.entries(w || {})
      .map(([b, v]) => `${b} ${v}`)
      .join(' / ');

  function announce(text) {
    const s = $('status');
    s.textContent = '';
    // a fresh text node so screen readers announce repeated messages too
    setTimeout(() => {
      s.textContent = text;
    }, 30);
  }

  function renderError() {
    const box = $('error');
    const text = state.actionError || state.pollError;
    if (box.textContent !== text) box.textContent = text;
    box.hidden = !text;
  }

  // ------------------------------------------------------------------ the admin API

  class ApiError extends Error {
    constructor(status, code, message) {
      super(`${status} ${code}: ${message}`);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const headers = { accept: 'application/json' };
    // No token → the request still goes out and the server refuses it (401): the page never
    // decides on its own what is allowed.
    if (state.token) headers.authorization = `Bearer ${state.token}`;
    if (state.who) headers['x-admin-user'] = state.who;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) {
      const e = json?.error || {};
      const hint = res.status === 401 ? ' (enter a valid admin token)' : '';
      throw new ApiError(res.status, e.code || res.statusText, (e.message || 'request failed') + hint);
    }
    return json;
  }

  // ------------------------------------------------------------------ table structure

  function routeBackends(route, statsRoute) {
    const names = new Set(Object.keys(route.weights));
    if (route.migration) {
      names.add(route.migration.from);
      names.add(route.migration.to);
    }
    if (route.fallback) names.add(route.fallback);
    if (statsRoute) for (const b of Object.keys(statsRoute.backends)) names.add(b);
    return [...names];
  }

  function modeOf(route) {
    const live = Object.values(route.weights).filter((w) => w > 0).length;
    const modes = [live > 1 ? 'split' : 'backend'];
    if (route.shadow) modes.push('shadow');
    if (route.fallback) modes.push('fallback');
    return modes;
  }

  function structureOf(table, stats) {
    const byId = new Map((stats ? stats.routes : []).map((r) => [r.id, r]));
    return JSON.stringify([table.version, table.routes.map((r) => [r.id, routeBackends(r, byId.get(r.id))])]);
  }

  function ring(key) {
    let r = state.rings.get(key);
    if (!r) {
      r = { rps: [], p99: [] };
      state.rings.set(key, r);
    }
    return r;
  }
  const push = (arr, v) => {
    arr.push(v);
    if (arr.length > RING) arr.shift();
  };

  function renderMeta() {
    const t = state.table;
    if (!t) return;
    $('table-version').textContent = t.version;
    $('table-label').textContent = t.label === null || t.label === undefined ? '–' : String(t.label);
    $('table-loaded').textContent = time(t.loadedAt);
    $('table-instance').textContent = t.instance;
    const p = t.persistence || {};
    $('table-persistence').textContent =
      `${p.redis ? 'Redis (every instance)' : 'this process only'}${p.file ? ' + written to the table file' : ''}`;
    if (t.lastReload && !t.lastReload.ok) {
      state.pollError = `Last table reload was refused (${t.lastReload.reason}): ${t.lastReload.error}. The previous table keeps serving.`;
    }
  }

  function buildRoutes() {
    const t = state.table;
    const byId = new Map((state.stats ? state.stats.routes : []).map((r) => [r.id, r]));
    const focused = document.activeElement?.id;
    // typed-in weights survive a rebuild while the table stays the same version
    const typed = new Map();
    if (state.builtVersion === t.version) {
      for (const input of document.querySelectorAll('#routes input[data-backend]'))
        typed.set(input.id, input.value);
    }
    const groups = [];
    const keep = new Set();
    for (const route of t.routes) {
      const backends = routeBackends(route, byId.get(route.id));
      const n = backends.length;
      const group = el('tbody', { 'data-route-group': route.id });
      groups.push(group);
      backends.forEach((b, i) => {
        keep.add(`${route.id}\u0000${b}`);
        const tr = el('tr', {
          class: i === 0 ? 'route-first' : undefined,
          'data-route': route.id,
          'data-backend': b,
        });
        if (i === 0) {
          tr.append(
            el(
              'th',
              { scope: 'rowgroup', rowspan: n, class: 'route' },
              el('span', { class: 'route-id', text: route.id }),
              el('span', { class: 'paths', text: route.paths.join(', ') }),
              el('span', { class: 'methods', text: route.methods ? route.methods.join(' ') : 'any method' }),
            ),
            el('td', { rowspan: n, class: 'mode' }, modeCell(route)),
          );
        }
        const w = route.weights[b];
        const role =
          route.migration && route.migration.to === b
            ? 'new'
            : route.migration && route.migration.from === b
              ? 'old'
              : null;
        tr.append(
          el(
            'td',
            { class: 'backend' },
            el('span', { class: 'dot', 'data-health': b, 'aria-hidden': 'true' }),
            b,
            role ? el('span', { class: `tag tag-${role}`, text: role }) : null,
            route.fallback === b ? el('span', { class: 'tag', text: 'fallback' }) : null,
          ),
          el('td', { class: 'num weight', 'data-cell': 'weight', text: w === undefined ? '–' : `${w}%` }),
          el('td', { class: 'num', 'data-cell': 'rps', text: '–' }),
          el('td', { 'data-cell': 'rps-spark' }),
          el('td', { class: 'num', 'data-cell': 'p50', text: '–' }),
          el('td', { class: 'num', 'data-cell': 'p99', text: '–' }),
          el('td', { 'data-cell': 'p99-spark' }),
          el('td', { class: 'num', 'data-cell': 'errors', text: '–' }),
        );
        if (i === 0) tr.append(el('td', { rowspan: n, class: 'actions' }, actionsCell(route, backends)));
        group.append(tr);
      });
    }
    for (const key of [...state.rings.keys()]) if (!keep.has(key)) state.rings.delete(key);
    const tableEl = $('routes');
    for (const old of tableEl.querySelectorAll('tbody')) old.remove();
    tableEl.append(...groups);
    state.builtVersion = t.version;
    for (const [id, value] of typed) {
      const input = document.getElementById(id);
      if (input) input.value = value;
    }
    if (focused) {
      const again = document.getElementById(focused);
      if (again) again.focus();
    }
  }

  function modeCell(route) {
    const wrap = el('div', {});
    wrap.append(
      el(
        'div',
        { class: 'badges' },
        modeOf(route).map((m) => el('span', { class: `badge badge-${m}`, text: m })),
      ),
    );
    if (route.fallback) wrap.append(el('div', { class: 'hint', text: `fallback → ${route.fallback}` }));
    if (route.override) {
      wrap.append(
        el('div', { class: 'hint', text: `override by ${route.override.by} at ${time(route.override.at)}` }),
      );
    }
    if (route.shadow) {
      wrap.append(
        el(
          'div',
          { class: 'shadow' },
          el(
            'div',
            {},
            `shadow → ${route.shadow.backend}`,
            route.shadow.paused ? el('strong', { text: ' (paused)' }) : '',
          ),
          el('div', { 'data-cell': 'mismatch', 'data-route': route.id, text: 'mismatch –' }),
          el('a', { href: `#samples=${encodeURIComponent(route.id)}`, text: 'Mismatch samples' }),
        ),
      );
    }
    return wrap;
  }

  function actionsCell(route, backends) {
    const wrap = el('div', { class: 'action-box' });
    const candidates = backends.filter(
      (b) =>
        b in route.weights || (route.migration && (route.migration.from === b || route.migration.to === b)),
    );
    if (candidates.length >= 2) {
      const inputs = [];
      const fs = el('fieldset', { class: 'weights' }, el('legend', { text: `Weights of ${route.id}` }));
      for (const b of candidates) {
        const id = `w-${route.id}-${b}`;
        const input = el('input', {
          id,
          type: 'number',
          min: 0,
          max: 100,
          step: 1,
          inputmode: 'numeric',
          value: route.weights[b] ?? 0,
          'data-backend': b,
        });
        inputs.push(input);
        fs.append(el('label', { for: id }, `${b} %`), input);
      }
      if (inputs.length === 2) {
        // two backends: typing one weight sets the other to the rest of 100
        const [a, b] = inputs;
        const mirror = (from, to) => () => {
          const v = Number(from.value);
          if (Number.isInteger(v) && v >= 0 && v <= 100) to.value = String(100 - v);
        };
        a.addEventListener('input', mirror(a, b));
        b.addEventListener('input', mirror(b, a));
      }
      fs.append(
        el('button', {
          type: 'button',
          id: `apply-${route.id}`,
          text: 'Apply weights',
          onclick: () => setWeights(route, inputs),
        }),
      );
      wrap.append(fs);
    }
    const buttons = el('div', { class: 'buttons' });
    if (route.migration) {
      const { from, to } = route.migration;
      buttons.append(
        el('button', {
          type: 'button',
          id: `promote-${route.id}`,
          text: `Promote to ${to}`,
          disabled: route.weights[to] === 100 ? true : undefined,
          onclick: () =>
            act(
              `Promote ${route.id}`,
              `Send all of ${route.id} to ${to} (weights ${from} 0 / ${to} 100)?`,
              'POST',
              `/admin/routes/${encodeURIComponent(route.id)}/promote`,
            ),
        }),
        el('button', {
          type: 'button',
          id: `rollback-${route.id}`,
          text: `Roll back to ${from}`,
          disabled: route.weights[from] === 100 ? true : undefined,
          onclick: () =>
            act(
              `Roll back ${route.id}`,
              `Send all of ${route.id} back to ${from} (weights ${from} 100 / ${to} 0)?`,
              'POST',
              `/admin/routes/${encodeURIComponent(route.id)}/rollback`,
            ),
        }),
      );
    }
    if (route.override) {
      buttons.append(
        el('button', {
          type: 'button',
          id: `reset-${route.id}`,
          text: 'Reset to file',
          onclick: () =>
            act(
              `Reset ${route.id}`,
              `Drop the admin override of ${route.id} and go back to the table file's settings (${weightsText(route.fileWeights)})?`,
              'DELETE',
              `/admin/routes/${encodeURIComponent(route.id)}/override`,
            ),
        }),
      );
    }
    if (route.shadow) {
      const paused = route.shadow.paused;
      buttons.append(
        el('button', {
          type: 'button',
          id: `shadow-${route.id}`,
          text: paused ? 'Resume shadow' : 'Pause shadow',
          'aria-pressed': paused ? 'true' : 'false',
          onclick: () =>
            act(
              `${paused ? 'Resume' : 'Pause'} shadowing of ${route.id}`,
              paused
                ? `Mirror ${route.id} to ${route.shadow.backend} again?`
                : `Stop mirroring ${route.id} to ${route.shadow.backend}?`,
              'POST',
              `/admin/routes/${encodeURIComponent(route.id)}/shadow/${paused ? 'resume' : 'pause'}`,
            ),
        }),
      );
    }
    if (buttons.childElementCount > 0) wrap.append(buttons);
    if (!wrap.childElementCount) wrap.append(el('span', { class: 'hint', text: 'no actions' }));
    return wrap;
  }

  // ------------------------------------------------------------------ live numbers

  function applyStats(stats) {
    state.stats = stats;
    const sig = structureOf(state.table, stats);
    if (sig !== state.signature) {
      state.signature = sig;
      buildRoutes();
    }
    for (const r of stats.routes) {
      for (const [b, n] of Object.entries(r.backends)) {
        const rg = ring(`${r.id}\u0000${b}`);
        push(rg.rps, n.rps);
        push(rg.p99, n.p99Ms);
        const tr = document.querySelector(
          `tr[data-route="${CSS.escape(r.id)}"][data-backend="${CSS.escape(b)}"]`,
        );
        if (!tr) continue;
        const cell = (name) => tr.querySelector(`[data-cell="${name}"]`);
        cell('rps').textContent = fmt(n.rps);
        cell('p50').textContent = fmt(n.p50Ms);
        cell('p99').textContent = fmt(n.p99Ms);
        const errs = cell('errors');
        errs.textContent = n.requests ? `${pct(n.errorRate)} (${n.errors})` : '–';
        errs.classList.toggle('bad', n.errorRate > 0.01);
        cell('rps-spark').replaceChildren(sparkline(rg.rps, `${r.id} ${b} requests per second`));
        cell('p99-spark').replaceChildren(sparkline(rg.p99, `${r.id} ${b} p99 latency ms`));
      }
      if (r.shadow) {
        const m = document.querySelector(`[data-cell="mismatch"][data-route="${CSS.escape(r.id)}"]`);
        if (m) {
          const s = r.shadow;
          const i = s.mismatchRateInterval;
          const range = s.compared ? ` [${pct(i.lower)}–${pct(i.upper)}]` : '';
          m.textContent = `mismatch ${s.compared ? pct(s.mismatchRate) : '–'}${range} (${s.mismatched}/${s.compared} compared, ${s.notCompared} not compared, ${s.dropped} dropped)`;
          m.classList.toggle('bad', s.mismatched > 0);
        }
        applyShadowStats(r.id, r.shadow);
      }
    }
    renderBackends(stats.backends);
    $('updated').textContent =
      `${time(stats.generatedAt)} · ${stats.windowSeconds} s window · ${stats.inFlight} in flight`;
  }

  function renderBackends(backends) {
    const rows = [];
    for (const [name, b] of Object.entries(backends || {})) {
      const health = !b.healthy ? 'down' : b.available ? 'up' : 'refusing';
      for (const dot of document.querySelectorAll(`[data-health="${CSS.escape(name)}"]`))
        dot.dataset.state = health;
      const c = state.cache?.backends[name];
      let cache = '–';
      let cacheTitle = 'not scraped yet';
      if (c?.ok) {
        const prev = state.cachePrev?.backends[name];
        let recent = '';
        if (prev?.ok) {
          const served = c.hit + c.stale + c.coalesced - (prev.hit + prev.stale + prev.coalesced);
          const lookups = c.lookups - prev.lookups;
          if (lookups > 0) recent = ` (${pct(served / lookups)})`;
        }
        cache = c.hitRatio === null ? 'no lookups' : `${pct(c.hitRatio)}${recent}`;
        cacheTitle = `${c.lookups} lookups: ${c.hit} hit, ${c.stale} stale, ${c.coalesced} coalesced, ${c.miss} miss`;
      } else if (c) {
        cache = 'n/a';
        cacheTitle = c.error;
      }
      rows.push(
        el(
          'tr',
          { 'data-backend-row': name },
          el(
            'th',
            { scope: 'row' },
            el('span', { class: 'dot', 'data-state': health, 'aria-hidden': 'true' }),
            name,
            el('div', { class: 'hint', text: b.url }),
          ),
          el('td', { class: `state-${health}`, text: health }),
          el('td', { class: `breaker-${b.breaker}`, text: b.breaker }),
          el('td', { class: 'num', text: b.breakerOpens }),
          el('td', {
            text: b.lastCheck
              ? `${b.lastCheck.ok ? 'ok' : 'failed'} ${b.lastCheck.detail} at ${time(b.lastCheck.at)}`
              : 'no check yet',
          }),
          el(
            'td',
            { class: 'num', 'data-cell': 'cache', title: cacheTitle },
            cache,
            el('span', { class: 'visually-hidden', text: ` ${cacheTitle}` }),
          ),
        ),
      );
    }
    $('backends-body').replaceChildren(...rows);
  }

  function renderAudit(entries) {
    const items = entries.slice(0, 25).map((e) => {
      const d = e.detail || {};
      let what = '';
      if (d.before && d.after) {
        const parts = [];
        if (JSON.stringify(d.before.weights) !== JSON.stringify(d.after.weights))
          parts.push(`${weightsText(d.before.weights)} → ${weightsText(d.after.weights)}`);
        if (d.before.shadowPaused !== d.after.shadowPaused)
          parts.push(`shadow ${d.after.shadowPaused ? 'paused' : 'running'}`);
        what = parts.join('; ') || 'no change';
      } else if (d && typeof d === 'object' && 'version' in d)
        what = `version ${d.version}${d.ok === false ? ' (refused)' : ''}`;
      return el(
        'li',
        { 'data-action': e.action },
        el('time', { datetime: e.at, text: time(e.at) }),
        ' ',
        el('strong', { text: e.who }),
        ` ${e.action}`,
        e.route ? ` ${e.route}` : '',
        what ? `: ${what}` : '',
        el('span', { class: 'hint', text: ` from ${e.ip || '?'}` }),
      );
    });
    if (items.length === 0) items.push(el('li', { class: 'hint', text: 'No admin actions yet.' }));
    $('audit').replaceChildren(...items);
  }

  // ------------------------------------------------------------------ rollouts

  const ROLLOUT_BUTTONS = [
    ['pause', 'Pause', ['running'], 'Checks stop and the weights stay where they are.'],
    [
      'resume',
      'Resume',
      ['paused', 'pending'],
      'Checks start again from a fresh window (a pending rollout starts).',
    ],
    ['skip', 'Skip step', ['running', 'paused'], 'The next step is applied now, without a check.'],
    [
      'abort',
      'Abort',
      ['running', 'paused', 'pending'],
      'All traffic goes back to the old backend at once and the shadow is paused.',
    ],
    [
      'restart',
      'Restart',
      ['running', 'paused', 'pending', 'promoted', 'rolled-back', 'aborted'],
      'The rollout begins again at its first step.',
    ],
  ];

  function duration(ms) {
    if (ms === null || ms === undefined) return '–';
    const s = Math.round(ms / 1000);
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
  }

  function stepLabel(v) {
    return v === 'shadow' ? 'shadow' : `${v}%`;
  }

  function gateValue(g, key) {
    const v = g[key];
    if (v === null || v === undefined) return '–';
    return `${v}${g.unit === '%' ? '%' : g.unit ? ` ${g.unit}` : ''}`;
  }

  function rolloutCard(r) {
    const steps = el(
      'ol',
      { class: 'rollout-steps', 'aria-label': `Steps of ${r.route}` },
      r.steps.map((s, i) => {
        const cls = i < r.step || r.phase === 'promoted' ? 'done' : i === r.step ? 'current' : 'todo';
        return el('li', {
          class: `rollout-step ${cls}`,
          'aria-current': i === r.step ? 'step' : null,
          text: stepLabel(s),
        });
      }),
    );
    const check = r.failure || r.lastCheck;
    const gates = check
      ? el(
          'table',
          { class: 'grid rollout-gates' },
          el('caption', {
            text: `${r.failure ? 'Failing check' : 'Last check'} ${time(check.at)} over ${time(check.from)}–${time(check.to)}: ${check.verdict}`,
          }),
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ['Gate', 'Value', 'Needs', 'Result'].map((h) => el('th', { scope: 'col', text: h })),
            ),
          ),
          el(
            'tbody',
            {},
            check.gates.map((g) =>
              el(
                'tr',
                { 'data-gate': g.gate, class: `gate-${g.status}` },
                el('th', { scope: 'row', text: g.gate, title: g.detail || '' }),
                el('td', { class: 'num', text: gateValue(g, 'value') }),
                el('td', { class: 'num', text: `${g.op} ${gateValue(g, 'threshold')}` }),
                el('td', {
                  text: {
                    pass: 'pass',
                    fail: 'FAIL',
                    'no-data': 'no data yet',
                    inconclusive: 'not proven yet',
                  }[g.status],
                }),
              ),
            ),
          ),
        )
      : el('p', { class: 'hint', text: 'No check yet.' });
    const buttons = el(
      'div',
      { class: 'buttons' },
      ROLLOUT_BUTTONS.map(([cmd, label, phases, what]) =>
        el('button', {
          type: 'button',
          'data-rollout-command': cmd,
          disabled: !phases.includes(r.phase),
          text: label,
          onclick: () => rolloutAct(r, cmd, label, what),
        }),
      ),
    );
    const timeline = el(
      'ol',
      { class: 'audit rollout-timeline', 'aria-label': `Timeline of ${r.route}` },
      r.timeline
        .slice(-10)
        .reverse()
        .map((e) =>
          el(
            'li',
            {},
            el('time', { datetime: new Date(e.at).toISOString(), text: time(e.at) }),
            ' ',
            el('strong', { text: e.event }),
            e.value !== null ? ` ${stepLabel(e.value)}` : '',
            ` by ${e.by}`,
            e.detail ? `: ${e.detail}` : '',
          ),
        ),
    );
    return el(
      'article',
      { class: `rollout phase-${r.phase}`, 'data-rollout': r.route, 'aria-labelledby': `rollout-${r.route}` },
      el(
        'h3',
        { id: `rollout-${r.route}` },
        `${r.route} `,
        el('span', { class: 'hint', text: `${r.from} → ${r.to}` }),
      ),
      el(
        'dl',
        { class: 'meta' },
        el('div', {}, el('dt', { text: 'Phase' }), el('dd', { class: 'rollout-phase', text: r.phase })),
        el(
          'div',
          {},
          el('dt', { text: 'Current step' }),
          el('dd', {
            class: 'rollout-current',
            text: r.step >= 0 ? `${r.step + 1}/${r.steps.length}: ${r.current}` : r.current,
          }),
        ),
        el('div', {}, el('dt', { text: 'Time in step' }), el('dd', { text: duration(r.timeInStepMs) })),
        el(
          'div',
          {},
          el('dt', { text: 'Failed checks' }),
          el('dd', { text: `${r.failedChecks} (tolerated ${r.maxFailedChecks})` }),
        ),
        el('div', {}, el('dt', { text: 'Next check' }), el('dd', { text: time(r.nextCheckAt) })),
      ),
      r.reason ? el('p', { class: 'rollout-reason', text: r.reason }) : null,
      steps,
      gates,
      buttons,
      timeline,
    );
  }

  async function loadRollouts() {
    let rollouts;
    try {
      ({ rollouts } = await api('GET', '/admin/rollouts'));
    } catch (error) {
      // the rest of the page keeps working; the panel says why it is empty
      if (error.status === 401 || error.status === 403) throw error;
      $('rollout-list').replaceChildren(
        el('p', { class: 'bad', text: `Rollouts unavailable: ${error.message}` }),
      );
      return;
    }
    // rebuilt every poll: keep the keyboard focus on the same button
    const focused = document.activeElement?.closest?.('[data-rollout]');
    const cmd = document.activeElement?.dataset?.rolloutCommand;
    $('rollouts').hidden = rollouts.length === 0;
    $('rollout-list').replaceChildren(...rollouts.map(rolloutCard));
    if (focused && cmd) {
      const again = document.querySelector(
        `[data-rollout="${CSS.escape(focused.dataset.rollout)}"] [data-rollout-command="${cmd}"]`,
      );
      if (again && !again.disabled) again.focus();
    }
  }

  async function rolloutAct(r, cmd, label, what) {
    if (state.busy) return;
    const title = `${label} the rollout of ${r.route}`;
    if (!(await confirmStep(title, `${what} (${r.route} is ${r.phase} at ${r.current}.)`))) {
      announce(`${title}: cancelled.`);
      return;
    }
    state.busy = true;
    document.body.setAttribute('aria-busy', 'true');
    try {
      const after = await api('POST', `/admin/rollouts/${encodeURIComponent(r.route)}/${cmd}`);
      state.actionError = '';
      announce(`${title}: done. Now ${after.phase} at ${after.current}.`);
      state.ticks = 0;
    } catch (error) {
      state.actionError = `${title} refused: ${error.message}`;
    } finally {
      state.busy = false;
      document.body.removeAttribute('aria-busy');
      renderError();
      tick();
    }
  }

  // ------------------------------------------------------------------ shadow comparisons

  const REASONS = {
    too_large: 'too large',
    not_json: 'not JSON',
    streaming: 'a stream',
    shadow_error: 'shadow error',
    shadow_timeout: 'shadow timeout',
    primary_error: 'served error',
    learning_noise: 'learning noise',
  };

  function rateText(s) {
    if (!s?.compared) return 'nothing compared yet';
    const i = s.mismatchRateInterval;
    return `${pct(s.mismatchRate)} (95% interval ${pct(i.lower)}–${pct(i.upper)}; ${s.mismatched} of ${s.compared} compared)`;
  }

  function notComparedText(s) {
    if (!s) return '–';
    const parts = Object.entries(s.notComparedBy || {})
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${REASONS[reason] || reason} ${n}`);
    return parts.length ? `${s.notCompared} (${parts.join(', ')})` : '0';
  }

  function preview(v) {
    if (v === undefined) return '(absent)';
    const t = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
    return t.length > 80 ? `${t.slice(0, 80)}…` : t;
  }

  /** Live numbers of a card (every poll, from /admin/stats). */
  function applyShadowStats(routeId, s) {
    const card = document.querySelector(`[data-shadow="${CSS.escape(routeId)}"]`);
    if (!card || !s) return;
    const cell = (name) => card.querySelector(`[data-shadow-cell="${name}"]`);
    cell('rate').textContent = rateText(s);
    cell('rate').classList.toggle('bad', s.mismatched > 0);
    cell('counts').textContent = `${s.matched} / ${s.mismatched}`;
    cell('not-compared').textContent = notComparedText(s);
    cell('dropped').textContent = String(s.dropped);
    cell('since').textContent = time(s.since);
  }

  function shadowCard(route, diff, noise) {
    const id = route.id;
    const meta = el(
      'dl',
      { class: 'meta' },
      el(
        'div',
        {},
        el('dt', { text: 'Mismatch rate' }),
        el('dd', { 'data-shadow-cell': 'rate', text: rateText(route) }),
      ),
      el(
        'div',
        {},
        el('dt', { text: 'Matched / mismatched' }),
        el('dd', { 'data-shadow-cell': 'counts', text: '–' }),
      ),
      el(
        'div',
        {},
        el('dt', { text: 'Not compared' }),
        el('dd', { 'data-shadow-cell': 'not-compared', text: '–' }),
      ),
      el('div', {}, el('dt', { text: 'Dropped' }), el('dd', { 'data-shadow-cell': 'dropped', text: '–' })),
      el(
        'div',
        {},
        el('dt', { text: 'Counting since' }),
        el('dd', { 'data-shadow-cell': 'since', text: '–' }),
      ),
    );

    const paths = diff?.paths || [];
    const fields = el(
      'table',
      { class: 'grid shadow-fields' },
      el('caption', { class: 'visually-hidden', text: `Fields that differ most on ${id}` }),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { scope: 'col', text: 'JSON path' }),
          el('th', { scope: 'col', class: 'num', text: 'Pairs' }),
          el('th', { scope: 'col', class: 'num', text: 'Share' }),
          el('th', { scope: 'col', text: 'Example' }),
        ),
      ),
      el(
        'tbody',
        {},
        paths.length
          ? paths.map((p) =>
              el(
                'tr',
                { 'data-path': p.path },
                el('th', { scope: 'row' }, el('code', { text: p.path })),
                el('td', { class: 'num', text: String(p.count) }),
                el('td', { class: 'num', text: pct(p.share) }),
                el(
                  'td',
                  { class: 'example' },
                  el('code', { text: p.example.field }),
                  `: ${preview(p.example.primary)} → ${preview(p.example.shadow)} `,
                  p.example.sampleId
                    ? el('a', {
                        href: `#samples=${encodeURIComponent(id)}/${encodeURIComponent(p.example.sampleId)}`,
                        text: `${p.example.method} ${p.example.path}`,
                      })
                    : `${p.example.method} ${p.example.path}`,
                ),
              ),
            )
          : el('tr', {}, el('td', { colspan: 4, class: 'empty', text: 'No field has differed.' })),
      ),
    );
    const statuses = diff?.statuses || [];
    const statusLine = el(
      'p',
      { class: 'shadow-statuses' },
      'Status codes that differ: ',
      statuses.length ? statuses.map((x) => `${x.primary} → ${x.shadow} × ${x.count}`).join(', ') : 'none',
    );

    const n = noise?.noise;
    const noiseRows = (n?.paths || []).map((p) =>
      el(
        'tr',
        { class: `noise-${p.state}`, 'data-noise-path': p.path },
        el('th', { scope: 'row' }, el('code', { text: p.path })),
        el('td', { class: 'num', text: String(p.pairs) }),
        el('td', { text: p.state }),
        el(
          'td',
          {},
          ['pin', 'reject', 'forget']
            .filter(
              (verb) =>
                !(verb === 'pin' && p.state === 'pinned') && !(verb === 'reject' && p.state === 'rejected'),
            )
            .map((verb) =>
              el('button', {
                type: 'button',
                'data-noise-command': verb,
                text: verb[0].toUpperCase() + verb.slice(1),
                'aria-label': `${verb} ${p.path} on ${id}`,
                onclick: () => noiseAct(id, verb, p.path),
              }),
            ),
        ),
      ),
    );
    const noiseTable = el(
      'table',
      { class: 'grid shadow-noise' },
      el('caption', { class: 'visually-hidden', text: `Learned noise of ${id}` }),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { scope: 'col', text: 'JSON path' }),
          el('th', { scope: 'col', class: 'num', text: 'Pairs that taught it' }),
          el('th', { scope: 'col', text: 'State' }),
          el('th', { scope: 'col', text: 'Actions' }),
        ),
      ),
      el(
        'tbody',
        {},
        noiseRows.length
          ? noiseRows
          : el('tr', {}, el('td', { colspan: 4, class: 'empty', text: 'No noise learned or pinned.' })),
      ),
    );
    const pinId = `pin-${id}`;
    const pinForm = el(
      'form',
      {
        class: 'shadow-actions',
        onsubmit: (ev) => {
          ev.preventDefault();
          const input = document.getElementById(pinId);
          if (input.value.trim()) noiseAct(id, 'pin', input.value.trim());
        },
      },
      el('label', { for: pinId, text: 'Pin a path as noise' }),
      el('input', {
        id: pinId,
        type: 'text',
        maxlength: 500,
        placeholder: 'meta.requestId',
        spellcheck: 'false',
      }),
      el('button', { type: 'submit', text: 'Pin' }),
    );
    const noiseSummary = n
      ? `${n.mode === 'learn' ? `learning from ${pct(n.sampleRate)} of safe requests` : 'not learning'} · ${n.pairs} pairs compared${n.mode === 'learn' ? (n.warmedUp ? '' : ` (warming up: ${n.pairs}/${n.warmupPairs})`) : ''} · ${n.activePaths} paths in force`
      : '–';

    const actions = el(
      'div',
      { class: 'shadow-actions' },
      el('a', { href: `#samples=${encodeURIComponent(id)}`, text: 'Mismatch samples' }),
      el('button', {
        type: 'button',
        'data-shadow-command': 'download',
        text: 'Download samples (JSON Lines)',
        onclick: () => downloadSamples(id),
      }),
      el('button', {
        type: 'button',
        'data-shadow-command': 'reset',
        text: 'Reset numbers',
        onclick: () =>
          shadowAct(
            `Reset the shadow numbers of ${id}`,
            `Counts, ranked fields and samples of ${id} start again from zero (learned noise stays).`,
            `/admin/routes/${encodeURIComponent(id)}/shadow/reset`,
            undefined,
          ),
      }),
    );

    return el(
      'article',
      { class: 'shadow-card', 'data-shadow': id, 'aria-labelledby': `shadow-card-${id}` },
      el(
        'h3',
        { id: `shadow-card-${id}` },
        `${id} `,
        el('span', { class: 'hint', text: `shadow → ${route.backend}${route.paused ? ' (paused)' : ''}` }),
      ),
      meta,
      el('h4', { text: 'Fields that differ most' }),
      fields,
      statusLine,
      el('h4', { text: 'Learned noise' }),
      el('p', { class: 'hint', 'data-shadow-cell': 'noise-summary', text: noiseSummary }),
      noiseTable,
      pinForm,
      actions,
    );
  }

  async function loadShadows() {
    const { routes } = await api('GET', '/admin/shadow');
    $('shadows').hidden = routes.length === 0;
    const parts = await Promise.all(
      routes.map(async (r) => {
        const base = `/admin/routes/${encodeURIComponent(r.id)}/shadow`;
        const [diff, noise] = await Promise.all([
          api('GET', `${base}/differences`),
          api('GET', `${base}/noise`),
        ]);
        return shadowCard(r, diff, noise);
      }),
    );
    // rebuilt every few polls: keep the keyboard focus where it was
    const active = document.activeElement;
    const card = active?.closest?.('[data-shadow]')?.dataset.shadow;
    const focusKey = active?.id || active?.dataset?.noiseCommand || active?.dataset?.shadowCommand;
    const focusPath = active?.closest?.('[data-noise-path]')?.dataset.noisePath;
    const typed = card ? document.getElementById(`pin-${card}`)?.value : undefined;
    $('shadow-list').replaceChildren(...parts);
    for (const r of routes) applyShadowStats(r.id, r);
    if (card) {
      const scope = document.querySelector(`[data-shadow="${CSS.escape(card)}"]`);
      const pin = document.getElementById(`pin-${card}`);
      if (pin && typed) pin.value = typed;
      let again = null;
      if (active.id) again = document.getElementById(active.id);
      else if (focusPath)
        again = scope?.querySelector(
          `[data-noise-path="${CSS.escape(focusPath)}"] [data-noise-command="${focusKey}"]`,
        );
      else if (focusKey) again = scope?.querySelector(`[data-shadow-command="${focusKey}"]`);
      again?.focus();
    }
  }

  async function shadowAct(title, text, path, body) {
    if (state.busy) return;
    if (!(await confirmStep(title, text))) {
      announce(`${title}: cancelled.`);
      return;
    }
    state.busy = true;
    document.body.setAttribute('aria-busy', 'true');
    try {
      await api('POST', path, body);
      state.actionError = '';
      announce(`${title}: done.`);
      state.ticks = 0;
    } catch (error) {
      state.actionError = `${title} refused: ${error.message}`;
    } finally {
      state.busy = false;
      document.body.removeAttribute('aria-busy');
      renderError();
      tick();
    }
  }

  function noiseAct(routeId, verb, path) {
    const what = {
      pin: `${path} will always be left out of ${routeId}'s comparison.`,
      reject: `${path} will always be compared on ${routeId}, however often it was learned as noise.`,
      forget: `What was learned and decided about ${path} on ${routeId} is dropped.`,
    }[verb];
    const label = verb[0].toUpperCase() + verb.slice(1);
    return shadowAct(
      `${label} ${path} on ${routeId}`,
      what,
      `/admin/routes/${encodeURIComponent(routeId)}/shadow/noise/${verb}`,
      { path },
    );
  }

  async function downloadSamples(routeId) {
    try {
      const headers = {};
      if (state.token) headers.authorization = `Bearer ${state.token}`;
      const res = await fetch(`/admin/shadow/samples.jsonl?route=${encodeURIComponent(routeId)}`, {
        headers,
        cache: 'no-store',
      });
      if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
      const url = URL.createObjectURL(await res.blob());
      const a = el('a', { href: url, download: `shadow-samples-${routeId}.jsonl` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      announce(`Samples of ${routeId} downloaded.`);
    } catch (error) {
      state.actionError = `Download of ${routeId}'s samples failed: ${error.message}`;
      renderError();
    }
  }

  // ------------------------------------------------------------------ polling

  async function loadTable(quiet) {
    const before = state.table?.version;
    state.table = await api('GET', '/admin/table');
    state.signature = '';
    renderMeta();
    // a version this page's own action produced was already announced as "done"
    const ours = state.table.version === state.ownVersion;
    if (!quiet && !ours && before && before !== state.table.version) {
      announce(`Route table changed: version ${state.table.version}.`);
    }
  }

  async function loadAudit() {
    const a = await api('GET', '/admin/audit?limit=25');
    renderAudit(a.entries);
  }

  async function loadCache() {
    const c = await api('GET', '/admin/ui/cache');
    if (!state.cache || state.cache.scrapedAt !== c.scrapedAt) {
      state.cachePrev = state.cache;
      state.cache = c;
    }
  }

  async function tick() {
    clearTimeout(state.timer);
    if (state.ticking) {
      state.again = true;
      return;
    }
    state.ticking = true;
    try {
      const stats = await api('GET', `/admin/stats?window=${state.windowS}`);
      // the table changed (a reload, or an admin change on any instance): fetch it again
      if (!state.table || stats.tableVersion !== state.table.version) await loadTable();
      if (state.ticks % SLOW_EVERY === 0) await Promise.all([loadAudit(), loadCache(), loadShadows()]);
      await loadRollouts();
      state.pollError = '';
      renderMeta();
      applyStats(stats);
      state.ticks++;
    } catch (error) {
      state.pollError = `Could not load: ${error.message}`;
      document.body.classList.add('stale');
    }
    if (!state.pollError) document.body.classList.remove('stale');
    renderError();
    state.ticking = false;
    if (state.again) {
      state.again = false;
      tick();
      return;
    }
    state.timer = setTimeout(tick, state.token ? POLL_MS : POLL_MS * 5);
  }

  // ------------------------------------------------------------------ actions

  function confirmStep(title, text) {
    const dialog = $('confirm');
    $('confirm-title').textContent = title;
    $('confirm-text').textContent = text;
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
      dialog.returnValue = 'cancel';
      dialog.showModal();
      $('confirm-cancel').focus();
    });
  }

  async function act(title, text, method, path, body) {
    if (state.busy) return;
    if (!(await confirmStep(title, text))) {
      announce(`${title}: cancelled.`);
      return;
    }
    state.busy = true;
    document.body.setAttribute('aria-busy', 'true');
    try {
      const result = await api(method, path, body);
      state.ownVersion = result.tableVersion;
      state.actionError = '';
      announce(
        `${title}: done. Weights now ${weightsText(result.route.weights)}; table version ${result.tableVersion}.`,
      );
      await loadTable(true).catch(() => {});
      state.ticks = 0; // refresh audit and cache on the next poll
    } catch (error) {
      state.actionError = `${title} refused: ${error.message}`;
    } finally {
      state.busy = false;
      document.body.removeAttribute('aria-busy');
      renderError();
      tick();
    }
  }

  function setWeights(route, inputs) {
    const weights = {};
    let sum = 0;
    for (const input of inputs) {
      const v = Number(input.value);
      if (!Number.isInteger(v) || v < 0 || v > 100) {
        state.actionError = `Weight of ${input.dataset.backend} must be a whole number 0..100.`;
        renderError();
        input.focus();
        return;
      }
      weights[input.dataset.backend] = v;
      sum += v;
    }
    if (sum !== 100) {
      state.actionError = `Weights of ${route.id} must add up to 100 (they add up to ${sum}).`;
      renderError();
      inputs[0].focus();
      return;
    }
    act(
      `Change weights of ${route.id}`,
      `Change ${route.id} from ${weightsText(route.weights)} to ${weightsText(weights)}?`,
      'PUT',
      `/admin/routes/${encodeURIComponent(route.id)}/weights`,
      { weights },
    );
  }

  // ------------------------------------------------------------------ shadow samples

  function jsonLines(value, path, key, indent, last, out) {
    const pad = '  '.repeat(indent);
    const prefix = pad + (key === null ? '' : `${JSON.stringify(key)}: `);
    const comma = last ? '' : ',';
    const join = (k) => (path ? `${path}.${k}` : String(k));
    if (Array.isArray(value) && value.length > 0) {
      out.push({ path, text: `${prefix}[` });
      value.forEach((v, i) => {
        jsonLines(v, join(i), null, indent + 1, i === value.length - 1, out);
      });
      out.push({ path, text: `${pad}]${comma}` });
    } else if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
      const keys = Object.keys(value);
      out.push({ path, text: `${prefix}{` });
      keys.forEach((k, i) => {
        jsonLines(value[k], join(k), k, indent + 1, i === keys.length - 1, out);
      });
      out.push({ path, text: `${pad}}${comma}` });
    } else {
      out.push({ path, text: `${prefix}${JSON.stringify(value)}${comma}` });
    }
    return out;
  }

  function sidePane(side, diffPaths, label) {
    const bodyDiff = diffPaths.includes('$body') || diffPaths.includes('$');
    let lines;
    try {
      const value = JSON.parse(side.body);
      lines = jsonLines(value, '', null, 0, true, []);
    } catch {
      lines = (side.body || '').split('\n').map((text) => ({ path: '$body', text }));
    }
    // a path missing on this side marks its nearest ancestor that is there (e.g. `"missing": []`)
    const present = new Set(lines.map((l) => l.path));
    const marked = diffPaths.map((d) => {
      let p = d;
      while (p && !present.has(p)) p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '';
      return p === d ? { path: d, subtree: true } : { path: p, subtree: false };
    });
    const isDiff = (p) =>
      bodyDiff ||
      marked.some((m) => (m.path === '' ? false : p === m.path || (m.subtree && p.startsWith(`${m.path}.`))));
    const pre = el('pre', { class: 'json', tabindex: 0, 'aria-label': `${label} body` });
    for (const line of lines) {
      pre.append(isDiff(line.path) ? el('mark', { title: line.path, text: line.text }) : line.text, '\n');
    }
    // open at the first difference
    requestAnimationFrame(() => {
      const first = pre.querySelector('mark');
      if (first) pre.scrollTop = Math.max(0, first.offsetTop - pre.offsetTop - 40);
    });
    return el(
      'div',
      { class: 'pane' },
      el('h4', {
        text: `${label}: ${side.backend} · ${side.status === null ? 'no response' : `HTTP ${side.status}`}`,
      }),
      side.error ? el('p', { class: 'bad', text: side.error }) : null,
      side.truncated ? el('p', { class: 'hint', text: 'body truncated: not compared' }) : null,
      pre,
    );
  }

  async function showSamples(routeId, sampleId) {
    const section = $('samples');
    const opening = section.hidden;
    section.hidden = false;
    $('samples-heading').textContent = `Shadow samples of ${routeId}`;
    try {
      const { samples } = await api(
        'GET',
        `/admin/shadow/samples?route=${encodeURIComponent(routeId)}&limit=50`,
      );
      const id = sampleId || samples[0]?.id;
      const list = samples.map((s) =>
        el(
          'li',
          {},
          el(
            'a',
            {
              href: `#samples=${encodeURIComponent(routeId)}/${encodeURIComponent(s.id)}`,
              'aria-current': s.id === id ? 'true' : undefined,
            },
            `${time(s.at)} ${s.method} ${s.path} · ${s.primary.backend} ${s.primary.status ?? '–'} vs ${s.shadow.backend} ${s.shadow.status ?? '–'} · ${s.differences.length} difference${s.differences.length === 1 ? '' : 's'}`,
          ),
        ),
      );
      if (list.length === 0)
        list.push(el('li', { class: 'hint', text: 'No mismatches stored for this route.' }));
      $('sample-list').replaceChildren(...list);
      const view = $('sample-view');
      if (!id) {
        view.replaceChildren();
      } else {
        const s = await api('GET', `/admin/shadow/samples/${encodeURIComponent(id)}`);
        const paths = s.differences.map((d) => d.path);
        const diffs = el(
          'table',
          { class: 'grid diffs' },
          el('caption', { text: `${s.differences.length} differing path(s) · request ${s.requestId}` }),
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              el('th', { scope: 'col', text: 'Path' }),
              el('th', { scope: 'col', text: s.primary.backend }),
              el('th', { scope: 'col', text: s.shadow.backend }),
            ),
          ),
          el(
            'tbody',
            {},
            s.differences.map((d) =>
              el(
                'tr',
                {},
                el('th', { scope: 'row' }, el('code', { text: d.path })),
                el(
                  'td',
                  {},
                  el('code', { text: d.primary === undefined ? '(absent)' : JSON.stringify(d.primary) }),
                ),
                el(
                  'td',
                  {},
                  el('code', { text: d.shadow === undefined ? '(absent)' : JSON.stringify(d.shadow) }),
                ),
              ),
            ),
          ),
        );
        view.replaceChildren(
          el('h3', { id: 'sample-title', tabindex: -1, text: `${s.method} ${s.path} at ${time(s.at)}` }),
          diffs,
          el(
            'div',
            { class: 'side-by-side' },
            sidePane(s.primary, paths, 'Served'),
            sidePane(s.shadow, paths, 'Shadow'),
          ),
        );
      }
      const title = $('sample-title');
      if (opening || !title) section.focus();
      else title.focus();
    } catch (error) {
      $('sample-view').replaceChildren(
        el('p', { class: 'bad', text: `Could not load samples: ${error.message}` }),
      );
    }
  }

  function onHash() {
    const m = /^#samples=([^/]+)(?:\/(.+))?$/.exec(location.hash);
    if (m) showSamples(decodeURIComponent(m[1]), m[2] ? decodeURIComponent(m[2]) : undefined);
    else $('samples').hidden = true;
  }

  // ------------------------------------------------------------------ start

  function renderTokenState() {
    $('token-state').textContent = state.token
      ? `Token set${state.who ? ` for ${state.who}` : ''}.`
      : 'No token set: the admin API refuses every request.';
  }

  function start() {
    $('who').value = state.who;
    $('window').value = String(state.windowS);
    renderTokenState();
    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      state.token = $('token').value.trim();
      state.who = $('who').value.trim();
      store.setItem('pilot.adminToken', state.token);
      store.setItem('pilot.adminUser', state.who);
      $('token').value = '';
      state.actionError = '';
      state.ticks = 0;
      renderTokenState();
      announce('Token saved; loading.');
      tick();
    });
    $('token-forget').addEventListener('click', () => {
      state.token = '';
      store.removeItem('pilot.adminToken');
      renderTokenState();
      announce('Token forgotten: the admin API will refuse every request.');
    });
    $('window').addEventListener('change', () => {
      state.windowS = Number($('window').value);
      store.setItem('pilot.window', String(state.windowS));
      for (const r of state.rings.values()) {
        r.rps.length = 0;
        r.p99.length = 0;
      }
      tick();
    });
    $('samples-close').addEventListener('click', (ev) => {
      ev.preventDefault();
      history.replaceState(null, '', location.pathname);
      $('samples').hidden = true;
      $('routes-heading').focus();
    });
    window.addEventListener('hashchange', onHash);
    onHash();
    tick();
  }

  start();
})();
