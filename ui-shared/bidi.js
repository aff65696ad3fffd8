// bidi: the browser side of the text policy for names and messages
// (docs/architecture.md, "Text from people"), imported by the widget's frame
// and the agent console. Kept tiny: the widget has a size budget.
//
// The server stores names without bidi controls and free text without
// unpaired ones, and the UI shows every name and body in an isolating
// element (<bdi>, dir="auto"). Both are needed, and rows stored before the
// policy still exist: Chromium lets a stray PDI inside a <bdi> end the
// element's isolation, so text is balanced here again before it is shown.

const CONTROLS = /[\u202A-\u202E\u2066-\u2069]/;
const PARAGRAPH = '\n\r\u001C\u001D\u001E\u0085\u2029';

/**
 * s without its unpaired explicit bidi controls, paragraph by paragraph:
 * the rule of the server's text_bidi_balance (backend/src/text.c). An
 * embedding or override without its PDF, an isolate without its PDI, a
 * closer that closes nothing and an embedding a PDI ends are removed;
 * marks and paired controls stay.
 */
export function balance(s) {
  const str = s == null ? '' : String(s);
  if (!CONTROLS.test(str)) return str;
  const out = str.split(''); // every control is one UTF-16 unit
  const open = []; // indices of the openers not closed yet
  const isolate = (i) => str[i] >= '\u2066';
  for (let i = 0; i < out.length; i++) {
    const c = str[i];
    if ((c >= '\u202A' && c <= '\u202E' && c !== '\u202C') || (c >= '\u2066' && c <= '\u2068')) {
      if (open.length < 125) open.push(i);
      else out[i] = '';
    } else if (c === '\u202C') {
      if (open.length && !isolate(open[open.length - 1])) open.pop();
      else out[i] = '';
    } else if (c === '\u2069') {
      let k = open.length;
      while (k && !isolate(open[k - 1])) k--;
      if (!k) out[i] = '';
      else {
        while (open.length > k) out[open.pop()] = '';
        open.pop();
      }
    } else if (PARAGRAPH.includes(c)) {
      while (open.length) out[open.pop()] = '';
    }
  }
  while (open.length) out[open.pop()] = '';
  return out.join('');
}

/**
 * A name (or other text from people) placed inside a plain string: a toast,
 * a dialog title, an aria-label, a sentence built by t(). Balanced and
 * wrapped in FSI ... PDI, the plain-text form of <bdi>, so that it cannot
 * reorder the words around it.
 */
export const isolate = (s) => `\u2068${balance(s)}\u2069`;
