// notify: telling the agent about what happens elsewhere: the chime (once
// per burst) and desktop notifications, and the agent's choices about them.
// Owns S.notify.

import { balance } from '../../../ui-shared/bidi.js';
import { S, changed, saved } from './state.js';
import { navigate, pageActive, toast } from './view.js';

let audio = null;

let lastSound = 0;

export function playSound() {
  if (!S.notify.sound) return;
  // One chime for a burst of events.
  if (Date.now() - lastSound < 1500) return;
  lastSound = Date.now();
  try {
    if (!audio) audio = new Audio('/console/notify.wav');
    audio.currentTime = 0;
    const p = audio.play();
    if (p && p.catch) p.catch(() => {});
  } catch {
    /* no audio */
  }
}

/**
 * A desktop notification. Its title and body are each one piece of text
 * from people (a name, a message), shown alone by the system: balanced,
 * so that an unpaired control cannot reverse them, but not wrapped in
 * FSI ... PDI, which some notification daemons draw as boxes.
 */
export function alertUser(title, body, id) {
  playSound();
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (pageActive() && S.view.selected === id) return;
  try {
    const n = new Notification(balance(title), { body: balance(String(body || '').slice(0, 180)), tag: `parley-${id}`, icon: '/console/favicon.svg' });
    n.onclick = () => {
      window.focus();
      const c = S.convs.get(id);
      const list = c && c.status === 'queued' ? 'queue' : 'mine';
      navigate({ area: 'inbox', list, selected: id });
      n.close();
    };
  } catch {
    /* some browsers only allow notifications from a service worker */
  }
}

/**
 * A desktop notification without the chime, while the page is not in
 * front (an incoming call: its card in the page is the cue, and it must
 * not sound).
 */
export function alertSilently(title, body, id) {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || pageActive()) return;
  try {
    const n = new Notification(balance(title), {
      body: balance(String(body || '').slice(0, 180)),
      tag: `parley-call-${id}`,
      silent: true,
      icon: '/console/favicon.svg',
    });
    n.onclick = () => {
      window.focus();
      n.close();
    };
  } catch {
    /* some browsers only allow notifications from a service worker */
  }
}

export async function enableDesktop() {
  if (typeof Notification === 'undefined') return;
  try {
    S.notify.permission = await Notification.requestPermission();
  } catch {
    S.notify.permission = Notification.permission;
  }
  if (S.notify.permission === 'granted') toast('Desktop notifications are on.', 'success', 2500);
  else if (S.notify.permission === 'denied') toast('Notifications are blocked for this site in your browser settings.', 'error');
  changed();
}

export function toggleSound() {
  S.notify.sound = !S.notify.sound;
  saved.save('prefs', { sound: S.notify.sound });
  if (S.notify.sound) playSound();
  changed();
}

/** The agent's saved choices (sound on or off). */
export function restorePrefs() {
  const prefs = saved.load('prefs') || {};
  S.notify.sound = prefs.sound !== false;
}
