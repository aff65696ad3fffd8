// The console's translated strings: English and Simplified Chinese. So far
// only the agent's own account actions (the change-password form and its
// menu entry) are translated; the rest of the console is English.
//
// The language is the one saved under localStorage "parley:lang" ("en" or
// "zh-CN"), else the browser's first preferred language when it is Chinese,
// else English. Strings are plain text (never HTML); {x} placeholders are
// filled by t().

const en = {
  changePassword: 'Change password',
  changePasswordTitle: 'Change your password',
  currentPassword: 'Current password',
  newPassword: 'New password',
  confirmPassword: 'Repeat the new password',
  newPasswordHint: 'At least 8 characters. Your other sessions will be signed out.',
  passwordTooShort: 'Use at least 8 characters.',
  passwordsDiffer: 'The two new passwords are not the same.',
  passwordSame: 'Choose a password different from your current one.',
  wrongCurrent: 'This is not your current password.',
  tooManyAttempts: 'Too many attempts. Try again in {minutes} min.',
  networkError: 'The server could not be reached. Check your connection and try again.',
  passwordChanged: 'Your password has been changed. Your other sessions were signed out.',
  passwordNotChanged: 'The password was not changed: {error}',
  cancel: 'Cancel',
  saving: 'Changing…',
  closeDialog: 'Close dialog',
};

const zh = {
  changePassword: '修改密码',
  changePasswordTitle: '修改您的密码',
  currentPassword: '当前密码',
  newPassword: '新密码',
  confirmPassword: '再次输入新密码',
  newPasswordHint: '至少 8 个字符。修改后，您在其他设备和浏览器上的登录将被退出。',
  passwordTooShort: '请至少使用 8 个字符。',
  passwordsDiffer: '两次输入的新密码不一致。',
  passwordSame: '新密码不能与当前密码相同。',
  wrongCurrent: '当前密码不正确。',
  tooManyAttempts: '尝试次数过多，请在 {minutes} 分钟后重试。',
  networkError: '无法连接到服务器。请检查网络后重试。',
  passwordChanged: '密码已修改。您在其他设备和浏览器上的登录已被退出。',
  passwordNotChanged: '密码未能修改：{error}',
  cancel: '取消',
  saving: '正在修改…',
  closeDialog: '关闭对话框',
};

const TABLES = { en, 'zh-CN': zh };

/** "en" or "zh-CN". */
export function lang() {
  let saved;
  try {
    saved = localStorage.getItem('parley:lang');
  } catch {
    saved = null;
  }
  if (saved && TABLES[saved]) return saved;
  const prefs = (typeof navigator !== 'undefined' && (navigator.languages || [navigator.language])) || [];
  return /^zh\b/i.test(String(prefs[0] || '')) ? 'zh-CN' : 'en';
}

/** The string for key in the current language, placeholders filled. */
export function t(key, vars = {}) {
  const table = TABLES[lang()];
  const s = key in table ? table[key] : en[key] || key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}
