import { useState } from 'preact/hooks';
import { S, closeDialog, setHelp, toast, transfer } from '../store/index.js';
import { ApiError, post } from '../lib/api.js';
import { isolate } from '../../../ui-shared/bidi.js';
import { lang, t } from '../lib/i18n.js';
import { visitorName } from '../lib/util.js';
import { Avatar, Bdi, Field, Kbd, Modal } from './common.jsx';
import { Icon } from './icons.jsx';
import { presenceText } from './Participants.jsx';

export function TransferDialog({ id }) {
  const c = S.convs.get(id);
  const [tab, setTab] = useState('agent');
  const [target, setTarget] = useState(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  if (!c) return null;
  const agents = [...S.agents.values()]
    .filter((a) => a.active && a.id !== S.me.id && !(c.assignee && c.assignee.id === a.id))
    .sort(
      (a, b) =>
        Number(b.connected) - Number(a.connected) || (a.status === 'online' ? -1 : 0) - (b.status === 'online' ? -1 : 0) || a.name.localeCompare(b.name),
    );
  const teams = S.teams;
  const submit = async (e) => {
    e.preventDefault();
    if (!target) return;
    setBusy(true);
    const ok = await transfer(id, tab === 'agent' ? { to_agent_id: target } : { to_team_id: target }, reason.trim());
    if (!ok) setBusy(false);
  };
  return (
    <Modal
      title={
        <>
          {t('trTitle')} <Bdi text={visitorName(c)} />
        </>
      }
      label={t('trLabel', { name: isolate(visitorName(c)) })}
      onClose={closeDialog}
      footer={
        <>
          <button type="button" class="btn" onClick={closeDialog}>
            {t('trCancel')}
          </button>
          <button type="submit" form="transfer-form" class="btn primary" disabled={!target || busy} data-testid="transfer-submit">
            {busy ? t('trBusy') : t('trSubmit')}
          </button>
        </>
      }
    >
      <form id="transfer-form" onSubmit={submit}>
        <div class="segmented" role="tablist">
          <button
            type="button"
            role="tab"
            aria-selected={tab === 'agent' ? 'true' : 'false'}
            class={tab === 'agent' ? 'on' : ''}
            onClick={() => {
              setTab('agent');
              setTarget(null);
            }}
          >
            <Icon name="user" size={15} /> {t('trToAgent')}
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={tab === 'team' ? 'true' : 'false'}
            class={tab === 'team' ? 'on' : ''}
            onClick={() => {
              setTab('team');
              setTarget(null);
            }}
            data-testid="transfer-tab-team"
          >
            <Icon name="users" size={15} /> {t('trToTeam')}
          </button>
        </div>
        <div class="pick-list" role="radiogroup" aria-label={tab === 'agent' ? t('trAgents') : t('trTeams')}>
          {tab === 'agent' ? (
            agents.length ? (
              agents.map((a) => (
                <label key={a.id} class={`pick ${target === a.id ? 'on' : ''} ${a.connected ? '' : 'disabled'}`} data-testid="transfer-agent">
                  <input type="radio" name="target" value={a.id} disabled={!a.connected} checked={target === a.id} onChange={() => setTarget(a.id)} />
                  <Avatar name={a.name} seed={`a${a.id}`} kind="agent" size={28} />
                  <Bdi class="pick-name" text={a.name} />
                  <span class={`presence presence-${a.connected ? a.status : 'gone'}`}>
                    <span class="dot" />
                    {presenceText(a)}
                  </span>
                  <span class="muted small">{a.open_chats !== undefined ? t('chatsLoad', { open: a.open_chats, max: a.max_chats }) : ''}</span>
                </label>
              ))
            ) : (
              <p class="muted">{t('trNoAgent')}</p>
            )
          ) : (
            teams.map((team) => (
              <label key={team.id} class={`pick ${target === team.id ? 'on' : ''}`} data-testid="transfer-team">
                <input type="radio" name="target" value={team.id} checked={target === team.id} onChange={() => setTarget(team.id)} />
                <span class="team-mark">
                  <Icon name="users" size={15} />
                </span>
                <Bdi class="pick-name" text={team.name} />
                <span class="muted small">
                  {team.member_ids.length === 1 ? t('trMember') : t('trMembers', { n: team.member_ids.length })}
                  {team.id === c.team_id ? t('trCurrentTeam') : ''}
                </span>
              </label>
            ))
          )}
        </div>
        {tab === 'agent' ? <p class="field-hint">{t('trAgentHint')}</p> : <p class="field-hint">{t('trTeamHint')}</p>}
        <Field label={t('trReason')} id="transfer-reason">
          <input
            id="transfer-reason"
            maxLength={500}
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
            placeholder={t('trReasonExample')}
            data-testid="transfer-reason"
          />
        </Field>
      </form>
    </Modal>
  );
}

// The shortcuts by group: the keys, and the word (i18n) for what they do.
const SHORTCUTS = [
  [
    'keysNavigation',
    [
      [['?'], 'keysHelp'],
      [['j'], 'keysNext'],
      [['k'], 'keysPrevious'],
      [['1'], 'navQueue'],
      [['2'], 'navMine'],
      [['3'], 'keysAll'],
      [['4'], 'navClosed'],
      [['i'], 'keysPanel'],
      [['Esc'], 'keysEscape'],
    ],
  ],
  [
    'keysConversation',
    [
      [['a'], 'keysAccept'],
      [['e'], 'keysClose'],
      [['Shift', 'R'], 'keysReopen'],
      [['t'], 'transfer'],
      [['r'], 'keysReply'],
      [['n'], 'keysNote'],
      [['/'], 'keysCanned'],
    ],
  ],
  [
    'keysComposer',
    [
      [['Enter'], 'send'],
      [['Shift', 'Enter'], 'keysNewLine'],
      [['Ctrl', 'Enter'], 'keysSendNote'],
      [['↑', '↓'], 'keysChooseCanned'],
      [['Tab'], 'keysInsertCanned'],
    ],
  ],
];

export function HelpOverlay() {
  return (
    <Modal title={t('keysTitle')} onClose={() => setHelp(false)} wide label={t('keysTitle')}>
      <div class="help-grid" data-testid="help">
        {SHORTCUTS.map(([group, rows]) => (
          <section key={group}>
            <h3>{t(group)}</h3>
            <table>
              <tbody>
                {rows.map(([keys, what]) => (
                  <tr key={what}>
                    <td class="keys">
                      {keys.map((k, i) => (
                        <>
                          {i ? <span class="plus">+</span> : null}
                          <Kbd>{k}</Kbd>
                        </>
                      ))}
                    </td>
                    <td>{t(what)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        ))}
      </div>
    </Modal>
  );
}

/**
 * The agent's own password: the current one, the new one twice. The
 * server checks the current password under the login throttle and ends
 * the agent's other sessions (their consoles return to the sign-in page);
 * this one stays.
 */
export function PasswordDialog() {
  const [v, setV] = useState({ current: '', fresh: '', again: '' });
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setV({ ...v, [k]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    const errs = {};
    if (v.fresh.length < 8) errs.fresh = t('passwordTooShort');
    else if (v.fresh === v.current) errs.fresh = t('passwordSame');
    else if (v.again !== v.fresh) errs.again = t('passwordsDiffer');
    setErrors(errs);
    setError(null);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      await post('/api/auth/password', { current_password: v.current, new_password: v.fresh });
      closeDialog();
      toast(t('passwordChanged'), 'success', 6000);
    } catch (err) {
      setBusy(false);
      if (!(err instanceof ApiError)) return setError(t('passwordNotChanged', { error: String(err && err.message) }));
      if (err.status === 403 && err.slug === 'invalid_credentials') return setErrors({ current: t('wrongCurrent') });
      if (err.status === 429) return setError(t('tooManyAttempts', { minutes: Math.max(1, Math.ceil((err.retryAfter || 60) / 60)) }));
      if (err.status === 0) return setError(t('networkError'));
      if (err.fields.new_password || err.fields.current_password) {
        return setErrors({ fresh: err.fields.new_password, current: err.fields.current_password });
      }
      setError(t('passwordNotChanged', { error: err.text }));
    }
  };
  return (
    <Modal
      title={t('changePasswordTitle')}
      onClose={closeDialog}
      lang={lang()}
      closeLabel={t('closeDialog')}
      footer={
        <>
          <button type="button" class="btn" onClick={closeDialog}>
            {t('cancel')}
          </button>
          <button type="submit" form="password-form" class="btn primary" disabled={busy} data-testid="password-submit">
            {busy ? t('saving') : t('changePassword')}
          </button>
        </>
      }
    >
      <form id="password-form" class="password-form" onSubmit={submit} data-testid="password-form" novalidate>
        {error ? (
          <div class="notice notice-error" role="alert" data-testid="password-error">
            {error}
          </div>
        ) : null}
        <Field label={t('currentPassword')} id="pw-current" error={errors.current}>
          <input
            id="pw-current"
            type="password"
            autocomplete="current-password"
            required
            autofocus
            value={v.current}
            onInput={set('current')}
            data-testid="password-current"
          />
        </Field>
        <Field label={t('newPassword')} id="pw-new" error={errors.fresh} hint={t('newPasswordHint')}>
          <input id="pw-new" type="password" autocomplete="new-password" required value={v.fresh} onInput={set('fresh')} data-testid="password-new" />
        </Field>
        <Field label={t('confirmPassword')} id="pw-again" error={errors.again}>
          <input id="pw-again" type="password" autocomplete="new-password" required value={v.again} onInput={set('again')} data-testid="password-again" />
        </Field>
        {/* For password managers: whose password this is (last, so that the dialog focuses the first field). */}
        <input type="email" autocomplete="username" value={S.me.email} readOnly hidden />
      </form>
    </Modal>
  );
}
