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
// No Preact, no HTML parsing of strings, no <style> elements (host pages may
// have a strict CSP): every style is set through the CSSOM.

export {}; // an ES module for esbuild: no CommonJS wrapper in the bundle

(() => {
  const w = window;
  const d = document;
  const prev = w.parley;
  if (prev && prev.loaded) return;

  const script = d.currentScript || d.querySelector('script[data-site]');
  if (!script) return;
  const site = script.getAttribute('data-site') || '';
  let server;
  try {
    server = new URL(script.src, location.href).origin;
  } catch (e) {
    return;
  }
  const warn = (m) => console.warn('Parley: ' + m);
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(site)) return warn('invalid data-site');

  const host = location.origin;
  const KEY = 'parley:' + site;
  const json = (r) => (r.ok ? r.json() : Promise.reject(Error('HTTP ' + r.status)));
  const str = (v, max) => (typeof v == 'string' && v.length <= max ? v : '');

  // ---- storage (host page's localStorage; memory when unavailable) ----
  let mem = {};
  const load = () => {
    try {
      const v = JSON.parse(localStorage.getItem(KEY));
      return v && typeof v == 'object' ? v : {};
    } catch (e) {
      return mem;
    }
  };
  const save = (patch) => {
    mem = Object.assign(load(), patch);
    try {
      localStorage.setItem(KEY, JSON.stringify(mem));
    } catch (e) {
      /* private mode: memory only */
    }
  };

  // ---- events for the page: parley('on', name, fn) ----
  const handlers = { ready: [], open: [], close: [], message: [], unread: [] };
  const emit = (ev, data) =>
    handlers[ev].forEach((fn) => {
      try {
        fn(data);
      } catch (e) {
        console.error(e);
      }
    });

  // ---- state ----
  let settings = null; // validated settings, once loaded
  let zh = false;
  let isOpen = false;
  let wantOpen = false;
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
  const session = (fresh) => {
    if (sessionP && !fresh) return sessionP;
    const st = load();
    const body = { site_key: site };
    if (st.t && !fresh) body.visitor_token = st.t;
    if (identity) body.identity = identity;
    const p = (sessionP = fetch(server + '/api/widget/session', {
      method: 'POST',
      credentials: 'omit',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
      .then(json)
      .then((j) => {
        const t = str(j.visitor_token, 128);
        if (!t) throw Error('no token');
        // A new visitor: whatever was stored belongs to the old one.
        if (t != st.t) save({ t, c: null, a: 0, o: [], s: null });
        return t;
      }));
    p.catch((e) => {
      if (sessionP == p) sessionP = null;
      warn(e.message);
    });
    return p;
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
          conv: st.c || null,
          outbox: Array.isArray(st.o) ? st.o : [],
          start: st.s || null,
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
    frame.src = server + '/widget/frame.html?site=' + encodeURIComponent(site) + '&host=' + encodeURIComponent(host);
    frame.title = zh ? '在线客服' : 'Chat';
    frame.id = 'parley-frame';
    frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox allow-downloads');
    root.appendChild(frame);
    launcher.setAttribute('aria-controls', frame.id);
    layout();
  };

  w.addEventListener('message', (e) => {
    const m = e.data;
    if (!frame || e.origin != server || e.source != frame.contentWindow || !m || m.parley != 1) return;
    if (m.type == 'hello') {
      frameUp = true;
      outq.splice(0).forEach(post);
      init();
    } else if (m.type == 'close') {
      close();
      launcher.focus();
    } else if (m.type == 'unread') {
      setUnread(m.count);
    } else if (m.type == 'message' && m.message) {
      const x = m.message;
      emit('message', { body: str(x.body, 16000), author: str(x.author, 200), created_at: str(x.created_at, 40) });
    } else if (m.type == 'state') {
      save({
        c: Number.isInteger(m.conv) ? m.conv : null,
        a: m.active ? 1 : 0,
        o: Array.isArray(m.outbox) ? m.outbox.slice(0, 50) : [],
        s: m.start && typeof m.start == 'object' ? m.start : null,
      });
    } else if (m.type == 'expired') {
      // The token is no longer valid: a new visitor.
      save({ t: null, c: null, a: 0, o: [], s: null });
      session(true).then(
        (token) => post({ type: 'token', token }),
        () => post({ type: 'fail' }),
      );
    }
  });

  // ---- the launcher ----
  const el = (tag, css, parent) => {
    const e = d.createElement(tag);
    e.style.cssText = css;
    if (parent) parent.appendChild(e);
    return e;
  };
  const setAttrs = (e, o) => Object.keys(o).forEach((k) => e.setAttribute(k, o[k]));
  const icon = (path, parent) => {
    const NS = 'http://www.w3.org/2000/svg';
    const svg = d.createElementNS(NS, 'svg');
    const p = d.createElementNS(NS, 'path');
    setAttrs(svg, { viewBox: '0 0 24 24', width: 26, height: 26, 'aria-hidden': 'true', focusable: 'false' });
    setAttrs(p, { d: path, fill: 'currentColor' });
    svg.appendChild(p);
    parent.appendChild(svg);
    return svg;
  };

  const FONT = 'system-ui,-apple-system,"Segoe UI",Roboto,sans-serif';
  const reduced = () => w.matchMedia && w.matchMedia('(prefers-reduced-motion: reduce)').matches;
  const mobile = () => w.innerWidth <= 480;

  // Text on the brand colour: dark or white, whichever reads better.
  const onColor = (hex) => {
    const n = parseInt(hex.slice(1), 16);
    const lum = (0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
    return lum > 0.62 ? '#111827' : '#fff';
  };

  const layout = () => {
    if (!root) return;
    const side = settings.position;
    const small = mobile();
    const anim = reduced() ? 'none' : 'opacity .2s ease, transform .2s ease';
    launcher.style.display = small && isOpen ? 'none' : 'flex';
    if (!frame) return;
    frame.style.cssText =
      'all:initial;position:fixed;z-index:2147483001;' +
      (small
        ? 'inset:0;width:100%;height:100%;'
        : `bottom:92px;${side}:20px;width:380px;max-width:calc(100vw - 40px);height:min(680px, calc(100vh - 112px));border-radius:16px;` +
          'box-shadow:0 12px 48px rgba(15,23,42,.22),0 2px 8px rgba(15,23,42,.12);') +
      `transition:${anim};` +
      (isOpen ? 'opacity:1;transform:none;visibility:visible;' : 'opacity:0;transform:translateY(16px);visibility:hidden;pointer-events:none;');
    frame.setAttribute('aria-hidden', !isOpen);
  };

  const setLabel = () => {
    let t = (zh ? ['打开聊天', '关闭聊天'] : ['Open chat', 'Close chat'])[+isOpen];
    if (unread && !isOpen) t += ` (${unread} ${zh ? '条未读' : 'unread'})`;
    setAttrs(launcher, { 'aria-label': t, 'aria-expanded': isOpen });
    iconOpen.style.display = isOpen ? 'none' : 'block';
    iconClose.style.display = isOpen ? 'block' : 'none';
    if (label) label.style.display = isOpen ? 'none' : 'inline';
  };

  const setUnread = (n) => {
    n = Number.isInteger(n) && n > 0 ? n : 0;
    if (n == unread) return;
    unread = n;
    badge.textContent = n > 9 ? '9+' : String(n);
    badge.style.display = n && !isOpen ? 'flex' : 'none';
    setLabel();
    emit('unread', { count: n });
  };

  const open = () => {
    if (!settings) {
      wantOpen = true;
      return;
    }
    if (!frame) {
      makeFrame();
      session();
    }
    if (isOpen) return;
    isOpen = true;
    post({ type: 'open' });
    layout();
    setLabel();
    badge.style.display = 'none';
    frame.focus();
    emit('open');
  };

  const close = () => {
    wantOpen = false;
    if (!isOpen) return;
    isOpen = false;
    post({ type: 'close' });
    layout();
    setLabel();
    badge.style.display = unread ? 'flex' : 'none';
    emit('close');
  };

  const draw = () => {
    const color = settings.color;
    const fg = onColor(color);
    const side = settings.position;
    const text = settings.launcher_text;
    const host_ = el('div', 'all:initial;');
    host_.id = 'parley-widget';
    root = host_.attachShadow ? host_.attachShadow({ mode: 'open' }) : host_;
    launcher = el(
      'button',
      `all:initial;box-sizing:border-box;position:fixed;bottom:20px;${side}:20px;z-index:2147483000;display:flex;` +
        'align-items:center;justify-content:center;gap:8px;height:60px;min-width:60px;' +
        (text ? 'padding:0 22px 0 18px;' : 'padding:0;') +
        `border-radius:30px;border:0;cursor:pointer;background:${color};color:${fg};` +
        `font:600 15px/1 ${FONT};` +
        'box-shadow:0 6px 20px rgba(15,23,42,.25),0 2px 6px rgba(15,23,42,.12);' +
        (reduced() ? '' : 'transition:transform .15s;'),
      root,
    );
    launcher.type = 'button';
    iconOpen = icon(
      'M12 3C6.5 3 2 6.9 2 11.7c0 2.5 1.2 4.7 3.2 6.3-.2 1.4-.9 2.7-1.9 3.6 2.2.1 4.2-.7 5.6-1.8 1 .3 2 .4 3.1.4 5.5 0 10-3.9 10-8.6S17.5 3 12 3z',
      launcher,
    );
    iconClose = icon('M5.3 8.3a1 1 0 0 1 1.4 0L12 13.6l5.3-5.3a1 1 0 1 1 1.4 1.4l-6 6a1 1 0 0 1-1.4 0l-6-6a1 1 0 0 1 0-1.4z', launcher);
    if (text) {
      label = el('span', 'all:initial;font:inherit;color:inherit;white-space:nowrap;', launcher);
      label.textContent = text;
    }
    badge = el(
      'span',
      'all:initial;position:absolute;top:-4px;' +
        (side == 'left' ? 'left' : 'right') +
        ':-4px;min-width:22px;height:22px;padding:0 6px;box-sizing:border-box;border-radius:11px;background:#ef4444;' +
        `color:#fff;font:700 12px/22px ${FONT};display:none;` +
        'align-items:center;justify-content:center;box-shadow:0 0 0 2px #fff;',
      launcher,
    );
    badge.setAttribute('aria-hidden', 'true');
    const lift = (on) => {
      if (!reduced()) launcher.style.transform = on ? 'translateY(-2px)' : '';
    };
    launcher.addEventListener('mouseenter', () => lift(1));
    launcher.addEventListener('mouseleave', () => lift(0));
    launcher.addEventListener('focus', () => {
      let fv = true;
      try {
        fv = launcher.matches(':focus-visible');
      } catch (e) {
        /* old browser: always show */
      }
      if (fv) launcher.style.outline = `3px solid ${fg == '#fff' ? color : '#111827'}`;
      launcher.style.outlineOffset = '3px';
    });
    launcher.addEventListener('blur', () => (launcher.style.outline = 'none'));
    launcher.addEventListener('click', () => (isOpen ? close() : open()));
    setLabel();
    (d.body || d.documentElement).appendChild(host_);
    w.addEventListener('resize', layout);
    w.addEventListener('keydown', (e) => {
      if (e.key == 'Escape' && isOpen && !mobile()) close();
    });
  };

  // ---- settings: validated before any use ----
  const validate = (s) => {
    s = s && typeof s == 'object' ? s : {};
    const lang = ['en', 'zh-CN'].includes(s.language) ? s.language : 'auto';
    return {
      color: /^#[0-9a-fA-F]{6}$/.test(s.color) ? s.color : '#4f46e5',
      position: s.position == 'left' ? 'left' : 'right',
      launcher_text: str(s.launcher_text, 40).trim(),
      language: lang,
    };
  };

  const start = () => {
    fetch(`${server}/api/widget/sites/${site}`, { credentials: 'omit' })
      .then(json)
      .then((j) => {
        settings = validate(j && j.settings);
        const lang = settings.language == 'auto' ? navigator.language || '' : settings.language;
        zh = /^zh/i.test(lang);
        draw();
        // A conversation in progress: connect now, so that replies show
        // up as unread on the launcher.
        if (load().a) {
          makeFrame();
          session();
        }
        if (wantOpen) open();
        ready = true;
        emit('ready');
      })
      .catch((e) => warn(e.message));
  };

  // ---- the command API ----
  let ready = false;
  const identify = (o) => {
    if (!o || typeof o != 'object') return;
    profile = { name: str(o.name, 200), email: str(o.email, 254) };
    const id = str(o.id, 255);
    const next = id && /^[0-9a-fA-F]{64}$/.test(o.hash) ? { id, hash: o.hash } : null;
    if (next) {
      if (profile.name) next.name = profile.name;
      if (profile.email) next.email = profile.email;
    }
    const changed = JSON.stringify(next) != JSON.stringify(identity);
    identity = next;
    post({ type: 'profile', profile });
    if (changed && sessionP) session(true).then((token) => post({ type: 'token', token }));
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
    try {
      localStorage.removeItem(KEY);
    } catch (e) {
      /* nothing stored */
    }
    mem = {};
    profile = {};
    attrs = {};
    identity = sessionP = null;
    if (frame) frame.remove();
    frame = frameUp = null;
    outq = [];
    if (badge) setUnread(0);
  };

  const api = function (cmd, a, b) {
    if (cmd == 'open') open();
    else if (cmd == 'close') close();
    else if (cmd == 'toggle') isOpen ? close() : open();
    else if (cmd == 'identify') identify(a);
    else if (cmd == 'set') set(a);
    else if (cmd == 'reset') reset();
    else if (cmd == 'on' && handlers[a] && typeof b == 'function') {
      handlers[a].push(b);
      if (a == 'ready' && ready) b();
    }
  };
  api.loaded = true;
  const q = (prev && prev.q) || [];
  w.parley = api;
  q.forEach((args) => api.apply(null, args));
  start();
})();
