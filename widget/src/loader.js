// Parley widget loader: build/static/widget.js.
//
// Embedded by a site with
//   <script src="https://PARLEY/widget.js" data-site="SITE_KEY" async></script>
// It draws only the launcher button. The chat itself runs in an iframe of
// PARLEY/widget/frame.html, created on first open (or at once when a
// conversation is in progress). The visitor token lives in this (the host
// page's) localStorage; the session is created from here because the server
// accepts POST /api/widget/session only from the site's own origins.
// Host and frame talk through postMessage with exact origin checks.
//
// Every visitor beats (POST /api/widget/beat) while the page is visible, so
// that agents see who is online and on which page: a page view at once, then
// a plain beat every `every` seconds (the server says how often), `q` with
// sendBeacon when the page is left. An answer `invite: true` opens the widget
// (the frame fetches the invitation), unless the visitor closed the widget in
// this browser session (a sessionStorage flag, also sent as `x`).
//
// No Preact, no HTML parsing of strings, no <style> elements (host pages may
// have a strict CSP): every style is set through the CSSOM. The whole file
// must stay under 4 KB gzipped (tests/e2e/widget-budget.test.js): terse on
// purpose.

export {}; // an ES module for esbuild: no CommonJS wrapper in the bundle

(() => {
  const w = window;
  const d = document;
  const prev = w.parley;
  if (prev && prev.loaded) return;

  const script = d.currentScript || d.querySelector('script[data-site]');
  if (!script) return;
  const site = script.getAttribute('data-site') || '';
  const attempt = (f) => {
    try {
      return f();
    } catch (e) {
      /* storage refused, old browser: do without */
    }
  };
  const server = attempt(() => new URL(script.src, location.href).origin);
  const warn = (m) => console.warn('Parley: ' + m);
  if (!server) return;
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(site)) return warn('invalid data-site');

  const KEY = 'parley:' + site;
  const json = (r) => (r.ok ? r.json() : Promise.reject(Error('HTTP ' + r.status)));
  const str = (v, max) => (typeof v == 'string' && v.length <= max ? v : '');
  // A beat is text/plain (no CORS preflight); the session is JSON.
  const POST = (path, body, headers) => fetch(server + path, { method: 'POST', credentials: 'omit', headers, body: JSON.stringify(body) });

  // ---- storage (host page's localStorage; memory when unavailable) ----
  // t: visitor token, c: conversation, a: one in progress, o: unsent
  // messages, s: a conversation.start on its way, b/e: beat ticket/expiry.
  let mem = {};
  const load = () => {
    const v = attempt(() => JSON.parse(localStorage.getItem(KEY)) || {});
    return v && typeof v == 'object' ? v : mem;
  };
  const save = (patch) => {
    mem = Object.assign(load(), patch);
    attempt(() => localStorage.setItem(KEY, JSON.stringify(mem)));
  };
  // Closed by the visitor in this browser session: no invitation opens it.
  const shut = () => attempt(() => sessionStorage.getItem(KEY));

  // ---- events for the page: parley('on', name, fn); each handler on its own
  // task, so that a throwing one stops no other ----
  const handlers = { ready: [], open: [], close: [], message: [], unread: [] };
  const emit = (ev, data) => handlers[ev].forEach((fn) => setTimeout(fn, 0, data));

  // ---- state ----
  let color, side, text; // validated settings, once loaded
  let zh = false;
  let isOpen = false;
  let wantOpen = false;
  let ready = false;
  let unread = 0;
  let identity = null; // {id, hash, name?, email?} verified by the server
  let profile = {}; // {name, email} for the pre-chat form
  let attrs = {};
  let sessionP = null;
  let frame = null;
  let frameUp = false;
  let outq = [];
  let root, launcher, badge, iconOpen, iconClose, label;

  // ---- the session: POST /api/widget/session from this (host) page ----
  // Sent as JSON; `fresh`: a new visitor (the stored token is not sent).
  const session = (fresh) => {
    if (sessionP && !fresh) return sessionP;
    const st = load();
    const body = { site_key: site };
    if (st.t && !fresh) body.visitor_token = st.t;
    if (identity) body.identity = identity;
    const p = (sessionP = POST('/api/widget/session', body, { 'Content-Type': 'application/json' })
      .then(json)
      .then((j) => {
        const t = str(j.visitor_token, 128);
        const b = str((j.beat || {}).ticket, 200);
        // The ticket is good for 24 h: renewed an hour early.
        const patch = { b, e: b && Date.now() + 828e5 };
        // A new visitor: whatever was stored belongs to the old one.
        save(t == st.t ? patch : Object.assign(patch, { t, c: 0, a: 0, o: [], s: 0 }));
        return t;
      }));
    p.catch((e) => {
      if (sessionP == p) sessionP = null;
      warn(e.message);
    });
    return p;
  };
  // A new session for a new ticket (or a new visitor): the frame learns the token.
  const renew = (fresh) => {
    sessionP = null;
    return session(fresh).then((token) => post({ type: 'token', token }));
  };

  // ---- beats ----
  let every = 15;
  let timer = 0;
  let seen = ''; // the page whose view the server has
  const later = () => (timer = setTimeout(tick, every * 1e3));
  const tick = () => d.visibilityState == 'visible' && beat();
  const beat = (q, again) => {
    clearTimeout(timer);
    const st = load();
    const u = location.href.slice(0, 2048);
    const m = { b: st.b, u, n: d.title.slice(0, 300) };
    if (u != seen)
      Object.assign(m, {
        v: 1,
        r: d.referrer.slice(0, 2048),
        s: screen.width + 'x' + screen.height,
        l: navigator.language.slice(0, 35),
        z: Intl.DateTimeFormat().resolvedOptions().timeZone,
      });
    if (shut()) m.x = 1;
    if (q) {
      seen = ''; // leaving: a page restored from the back-forward cache is a view again
      return st.b && navigator.sendBeacon(server + '/api/widget/beat', JSON.stringify(Object.assign(m, { q })));
    }
    // No ticket yet, or an old one: a session (a new one for a new ticket) first, once.
    if (!(st.e > Date.now())) return again ? later() : (st.e ? renew() : session()).then(() => beat(0, 1), later);
    POST('/api/widget/beat', m)
      .then((r) =>
        r.status == 401 && !again
          ? renew().then(() => beat(0, 1))
          : json(r).then((j) => {
              seen = u;
              every = Math.min(300, Math.max(2, j.every | 0 || 15));
              if (j.invite && !shut()) {
                open(1);
                post({ type: 'invite' });
              }
              later();
            }),
      )
      .catch(later);
  };

  // ---- the frame ----
  const post = (m) => {
    if (!frame) return; // the frame's init carries the state
    m.parley = 1;
    if (frameUp) frame.contentWindow.postMessage(m, server);
    else outq.push(m);
  };

  const init = () =>
    session().then(
      (token) => {
        const st = load();
        post({
          type: 'init',
          token,
          // (the frame validates what it restores)
          conv: st.c,
          outbox: st.o,
          start: st.s,
          attrs,
          profile,
          page: location.href,
          ref: d.referrer,
          open: isOpen,
        });
      },
      () => post({ type: 'fail' }),
    );

  const makeFrame = () => {
    if (frame) return;
    frame = d.createElement('iframe');
    frame.src = server + '/widget/frame.html?site=' + encodeURIComponent(site) + '&host=' + encodeURIComponent(location.origin);
    frame.title = zh ? '在线客服' : 'Chat';
    frame.id = 'parley-frame';
    frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox allow-downloads');
    // Calls (issue 17): the frame may ask for the mic, the camera and a screen, and play the other side.
    frame.allow = 'camera;microphone;display-capture;autoplay';
    root.appendChild(frame);
    launcher.setAttribute('aria-controls', frame.id);
    layout();
    session();
  };

  w.addEventListener('message', (e) => {
    const m = e.data;
    if (!frame || e.origin != server || e.source != frame.contentWindow || m.parley != 1) return;
    const type = m.type;
    if (type == 'hello') {
      frameUp = 1;
      outq.splice(0).forEach(post);
      init();
    } else if (type == 'close') {
      close(1);
      launcher.focus();
    } else if (type == 'ring') {
      open(1); // an agent calls: the call card must be seen
    } else if (type == 'unread') {
      setUnread(m.count);
    } else if (type == 'message') {
      emit('message', m.message); // {body, author, created_at}, made by the frame
    } else if (type == 'state') {
      save({ c: m.conv, a: m.active, o: m.outbox, s: m.start });
    } else if (type == 'expired') {
      // The token is no longer valid: a new visitor (the session clears the rest).
      save({ t: 0, e: 0 });
      renew(1).catch(() => post({ type: 'fail' }));
    }
  });

  // ---- the launcher ----
  const el = (tag, css, parent) => {
    const e = d.createElement(tag);
    e.style.cssText = 'all:initial;' + css;
    parent.appendChild(e);
    return e;
  };
  const setAttrs = (e, o) => Object.keys(o).forEach((k) => e.setAttribute(k, o[k]));
  const icon = (path) => {
    const NS = 'http://www.w3.org/2000/svg';
    const svg = d.createElementNS(NS, 'svg');
    const p = d.createElementNS(NS, 'path');
    setAttrs(svg, { viewBox: '0 0 24 24', width: 26, height: 26, 'aria-hidden': 'true', focusable: 'false' });
    setAttrs(p, { d: path, fill: 'currentColor' });
    svg.appendChild(p);
    return launcher.appendChild(svg);
  };

  const FONT = 'system-ui,sans-serif'; // (the platform's own UI font everywhere that matters now)
  const SHADOW = 'box-shadow:0 6px 20px rgba(15,23,42,.25),0 2px 6px rgba(15,23,42,.12);';
  const reduced = () => w.matchMedia('(prefers-reduced-motion: reduce)').matches;
  const mobile = () => w.innerWidth <= 480;
  const show = (e, on, how) => (e.style.display = on ? how || 'block' : 'none');

  const layout = () => {
    const small = mobile();
    show(launcher, !(small && isOpen), 'flex');
    if (!frame) return;
    frame.style.cssText =
      'all:initial;position:fixed;z-index:2147483001;' +
      (small
        ? 'inset:0;width:100%;height:100%;'
        : `bottom:92px;${side}:20px;width:380px;max-width:calc(100vw - 40px);height:min(680px, calc(100vh - 112px));border-radius:16px;` + SHADOW) +
      `transition:${reduced() ? 'none' : 'opacity .2s ease, transform .2s ease'};` +
      (isOpen ? 'opacity:1;transform:none;visibility:visible;' : 'opacity:0;transform:translateY(16px);visibility:hidden;pointer-events:none;');
    frame.setAttribute('aria-hidden', !isOpen);
  };

  const setLabel = () => {
    let t = (zh ? ['打开聊天', '关闭聊天'] : ['Open chat', 'Close chat'])[+isOpen];
    if (unread && !isOpen) t += ` (${unread} ${zh ? '条未读' : 'unread'})`;
    setAttrs(launcher, { 'aria-label': t, 'aria-expanded': isOpen });
    show(iconOpen, !isOpen);
    show(iconClose, isOpen);
    if (label) show(label, !isOpen); // (a flex item: block or inline is all one)
    show(badge, unread && !isOpen);
  };

  const setUnread = (n) => {
    n = n > 0 ? n : 0; // (a count from our frame)
    if (n == unread) return;
    unread = n;
    badge.textContent = n > 9 ? '9+' : n;
    setLabel();
    emit('unread', { count: n });
  };

  // `auto`: opened by an invitation, not by the visitor.
  const open = (auto) => {
    if (!side) return (wantOpen = 1);
    makeFrame();
    if (isOpen) return;
    isOpen = true;
    post({ type: 'open' });
    layout();
    setLabel();
    // An invitation takes the keyboard only when nothing on the page has it.
    if (!auto || d.activeElement == d.body) frame.focus();
    emit('open');
  };

  // `byVisitor`: remembered for this browser session (no automatic invitation).
  const close = (byVisitor) => {
    wantOpen = false;
    if (byVisitor) attempt(() => sessionStorage.setItem(KEY, 1));
    if (!isOpen) return;
    isOpen = false;
    post({ type: 'close' });
    layout();
    setLabel();
    emit('close');
  };
  const toggle = (byVisitor) => (isOpen ? close(byVisitor) : open());

  const draw = () => {
    // Text on the brand colour: dark or white, whichever reads better.
    const n = parseInt(color.slice(1), 16);
    const fg = 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255) > 158.1 ? '#111827' : '#fff';
    const host = d.createElement('div');
    host.style.cssText = 'all:initial;';
    host.id = 'parley-widget';
    root = host.attachShadow({ mode: 'open' });
    launcher = el(
      'button',
      `box-sizing:border-box;position:fixed;bottom:20px;${side}:20px;z-index:2147483000;display:flex;` +
        'align-items:center;justify-content:center;gap:8px;height:60px;min-width:60px;' +
        (text ? 'padding:0 22px 0 18px;' : 'padding:0;') +
        `border-radius:30px;border:0;outline-offset:3px;cursor:pointer;background:${color};color:${fg};font:600 15px/1 ${FONT};` +
        SHADOW +
        (reduced() ? '' : 'transition:transform .15s;'),
      root,
    );
    iconOpen = icon(
      'M12 3C6.5 3 2 6.9 2 11.7c0 2.5 1.2 4.7 3.2 6.3-.2 1.4-.9 2.7-1.9 3.6 2.2.1 4.2-.7 5.6-1.8 1 .3 2 .4 3.1.4 5.5 0 10-3.9 10-8.6S17.5 3 12 3z',
    );
    iconClose = icon('M7.4 8.6 12 13.2l4.6-4.6L18 10l-6 6-6-6z'); // (the shortest chevron: the budget)
    if (text) {
      label = el('span', 'font:inherit;color:inherit;white-space:nowrap;', launcher);
      label.textContent = text;
    }
    badge = el(
      'span',
      `position:absolute;top:-4px;${side}:-4px;min-width:22px;height:22px;padding:0 6px;box-sizing:border-box;border-radius:11px;background:#ef4444;` +
        `color:#fff;font:700 12px/22px ${FONT};display:none;text-align:center;box-shadow:0 0 0 2px #fff;`,
      launcher,
    );
    badge.setAttribute('aria-hidden', 'true');
    const lift = (y) => reduced() || (launcher.style.transform = y);
    launcher.addEventListener('mouseenter', () => lift('translateY(-2px)'));
    launcher.addEventListener('mouseleave', () => lift(''));
    launcher.addEventListener('focus', () => {
      if (launcher.matches(':focus-visible')) launcher.style.outline = `3px solid ${fg == '#fff' ? color : '#111827'}`;
    });
    launcher.addEventListener('blur', () => (launcher.style.outline = 'none'));
    launcher.addEventListener('click', () => toggle(1));
    setLabel();
    (d.body || d.documentElement).appendChild(host);
    w.addEventListener('resize', layout);
    w.addEventListener('keydown', (e) => e.key == 'Escape' && isOpen && !mobile() && close(1));
  };

  const start = () =>
    fetch(`${server}/api/widget/sites/${site}`, { credentials: 'omit' })
      .then(json)
      .then((j) => {
        // Settings are validated before any use.
        const s = (j && j.settings) || {};
        color = /^#[0-9a-fA-F]{6}$/.test(s.color) ? s.color : '#4f46e5';
        side = s.position == 'left' ? 'left' : 'right';
        text = str(s.launcher_text, 40).trim();
        // the site's language, else the browser's
        zh = s.language == 'zh-CN' || (s.language != 'en' && /^zh/i.test(navigator.language));
        draw();
        // A conversation in progress: connect now, so that replies show
        // up as unread on the launcher.
        if (load().a) makeFrame();
        if (wantOpen) open();
        ready = 1;
        emit('ready');
        tick();
        d.addEventListener('visibilitychange', tick);
        w.addEventListener('pagehide', () => beat(1));
      })
      .catch((e) => warn(e.message));

  // ---- the command API ----
  const identify = (o) => {
    if (!o) return;
    profile = { name: str(o.name, 200), email: str(o.email, 254) };
    const id = str(o.id, 255);
    // (an empty name or email is left out: undefined is not in JSON)
    const next = id && /^[0-9a-fA-F]{64}$/.test(o.hash) ? { id, hash: o.hash, name: profile.name || undefined, email: profile.email || undefined } : null;
    const changed = JSON.stringify(next) != JSON.stringify(identity);
    identity = next;
    post({ type: 'profile', profile });
    if (changed && sessionP) renew(1);
  };

  // Custom attributes for the agents (visitor.update): strings, numbers,
  // booleans; null removes one. The frame validates keys and lengths.
  const set = (o) => {
    const a = o && o.attributes;
    if (!a || typeof a != 'object') return;
    Object.keys(a).forEach((k) => {
      const v = a[k];
      if (v === null || /^(string|number|boolean)$/.test(typeof v)) attrs[k] = v;
    });
    post({ type: 'attrs', attrs });
  };

  const reset = () => {
    close();
    attempt(() => localStorage.removeItem(KEY));
    mem = {};
    profile = {};
    attrs = {};
    identity = sessionP = null;
    if (frame) frame.remove();
    frame = frameUp = null;
    outq = [];
    if (badge) setUnread(0);
  };

  const cmds = { open: () => open(), close: () => close(), toggle, identify, set, reset };
  const api = (cmd, a, b) => {
    if (cmds[cmd]) cmds[cmd](a);
    else if (cmd == 'on' && handlers[a] && typeof b == 'function') {
      handlers[a].push(b);
      if (a == 'ready' && ready) b();
    }
  };
  api.loaded = 1;
  const q = (prev && prev.q) || [];
  w.parley = api;
  q.forEach((args) => api(...args));
  start();
})();
