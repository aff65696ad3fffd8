import { useEffect, useRef, useState } from 'preact/hooks';
import { S, canSeeAdmin, confirmDialog, toast } from '../../store/index.js';
import { ApiError, del, patch } from '../../lib/api.js';
import { lang, t } from '../../lib/i18n.js';
import { Icon } from '../icons.jsx';
import { Agents } from './Agents.jsx';
import { Automation } from './Automation.jsx';
import { Bots } from './Bots.jsx';
import { Canned } from './Canned.jsx';
import { Invitations } from './Invitations.jsx';
import { Labels } from './Labels.jsx';
import { Sites } from './Sites.jsx';
import { Teams } from './Teams.jsx';
import { Tokens } from './Tokens.jsx';
import { Webhooks } from './Webhooks.jsx';

/**
 * Form state with server validation errors mapped to fields. explain(e), if
 * given, turns an ApiError into {fields, error} (a translated page's words);
 * otherwise the server's messages are shown as they are.
 */
export function useForm(initial, { explain } = {}) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const set = (k) => (e) => {
    const t = e.currentTarget;
    const v = t.type === 'checkbox' ? t.checked : t.value;
    setValues((old) => ({ ...old, [k]: v }));
  };
  const run = async (fn) => {
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ApiError && explain) {
        const x = explain(e);
        setErrors(x.fields);
        setError(x.error);
      } else if (e instanceof ApiError) {
        setErrors(e.fields);
        setError(Object.keys(e.fields).length ? null : e.status === 409 ? e.message : e.text);
      } else setError(String(e && e.message));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { values, setValues, set, errors, setErrors, busy, error, setError, run };
}

/** After a refusal, the first field it names (.has-error inside form) comes into view. */
export function useScrollToFirstError(form, errors) {
  useEffect(() => {
    if (!Object.keys(errors).length || !form.current) return;
    const first = form.current.querySelector('.has-error');
    if (first && first.scrollIntoView) first.scrollIntoView({ block: 'center' });
  }, [errors]);
}

/**
 * Deletes what path names once the admin confirms the dialog's words
 * (words: {title, body, confirm, cancel}); then toasts done, or the problem
 * in words (problemText(e)); busy(bool) around it, reload() after either.
 */
export async function deleteAfterConfirm({ words, path, done, problemText, busy, reload }) {
  const ok = await confirmDialog({ ...words, close: t('closeDialog'), lang: lang(), danger: true });
  if (!ok) return;
  busy(true);
  try {
    await del(path);
    toast(done, 'success', 3000);
  } catch (e) {
    toast(problemText(e), 'error', 8000);
  } finally {
    busy(false);
    reload();
  }
}

/**
 * A list an admin page reads, then changes row by row (rules: switches,
 * order, edits). read() fetches and returns a function that applies what it
 * read; a read that started before a change never lands after it (a reload
 * racing a switch click showed the old state). changing() marks a change
 * starting. Reads once on mount.
 */
export function useFreshList(read, problemText) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const epoch = useRef(0);
  const load = async () => {
    const mine = ++epoch.current;
    try {
      const apply = await read();
      if (mine !== epoch.current) return;
      apply();
      setError(null);
    } catch (e) {
      if (mine === epoch.current) setError(problemText(e));
    }
  };
  useEffect(() => {
    load();
  }, []);
  const changing = () => {
    epoch.current++;
  };
  return { error, busy, setBusy, load, changing };
}

/**
 * A rule's on/off switch: PATCH {enabled}, the answer replaces the row
 * (setRows), a toast says so (done(enabled)); a refusal is a toast and a
 * fresh read. list: useFreshList's.
 */
export async function switchRule({ list, path, rule, enabled, setRows, done, problemText }) {
  list.setBusy(true);
  list.changing();
  try {
    const res = await patch(path, { enabled });
    setRows((old) => old.map((r) => (r.id === rule.id ? res.rule : r)));
    toast(done(enabled), 'success', 2500);
  } catch (e) {
    toast(problemText(e), 'error', 8000);
    list.load();
  } finally {
    list.setBusy(false);
  }
}

export function PageHead({ title, sub, children }) {
  return (
    <header class="admin-head">
      <div>
        <h1>{title}</h1>
        {sub ? <p class="muted">{sub}</p> : null}
      </div>
      <div class="admin-head-actions">{children}</div>
    </header>
  );
}

export function Admin() {
  const tab = S.view.admin;
  if (!canSeeAdmin(tab)) {
    return (
      <div class="admin">
        <div class="empty big">
          <Icon name="shield" size={36} />
          <strong>Admins only</strong>
          <p>You do not have access to this page.</p>
        </div>
      </div>
    );
  }
  return (
    <div class="admin" data-testid={`admin-${tab}`}>
      {tab === 'agents' ? (
        <Agents />
      ) : tab === 'teams' ? (
        <Teams />
      ) : tab === 'sites' ? (
        <Sites />
      ) : tab === 'canned' ? (
        <Canned />
      ) : tab === 'tokens' ? (
        <Tokens />
      ) : tab === 'webhooks' ? (
        <Webhooks />
      ) : tab === 'bots' ? (
        <Bots />
      ) : tab === 'labels' ? (
        <Labels />
      ) : tab === 'automation' ? (
        <Automation />
      ) : tab === 'invitations' ? (
        <Invitations />
      ) : null}
    </div>
  );
}
