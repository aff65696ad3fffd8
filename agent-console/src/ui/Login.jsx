import { useState } from 'preact/hooks';
import { S, login } from '../store/index.js';
import { Icon } from './icons.jsx';

export function Login() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const notice = S.loginNotice;

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(email.trim(), password);
    } catch (err) {
      if (err.status === 401) setError('That email and password do not match an active account.');
      else if (err.status === 429)
        setError(`Too many failed attempts. Try again in ${err.retryAfter ? `${Math.ceil(err.retryAfter / 60)} min` : 'a few minutes'}.`);
      else if (err.status === 400) setError('Enter your email and password.');
      else setError(err.text);
      setBusy(false);
    }
  };

  return (
    <div class="login-page">
      <form class="login-card" onSubmit={submit} aria-label="Sign in">
        <div class="login-brand">
          <span class="brand-mark">
            <Icon name="message" size={20} />
          </span>
          <span>Parley</span>
        </div>
        <h1>Sign in to the agent console</h1>
        {notice ? (
          <div class={`notice notice-${notice.kind}`} role="status" data-testid="login-notice">
            {notice.text}
          </div>
        ) : null}
        <label for="login-email">Email</label>
        <input id="login-email" type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} autofocus />
        <label for="login-password">Password</label>
        <input
          id="login-password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        {error ? (
          <div class="notice notice-error" role="alert">
            {error}
          </div>
        ) : null}
        <button class="btn primary block" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
