// The text policy for names and messages on the browser side: one module
// for the widget and the console (see widget/src/shared/bidi.js).
export { balance, isolate } from '../../../widget/src/shared/bidi.js';
