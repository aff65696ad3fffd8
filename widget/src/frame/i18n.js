// The widget's two languages. Strings are plain text (never HTML); {x}
// placeholders are filled by t(). A name from people goes into a sentence
// only through tName(), which isolates it in a <bdi>.

import { h } from 'preact';

import { balance } from '../../../ui-shared/bidi.js';
import { fmtClock } from '../../../ui-shared/time.js';

const en = {
  title: 'Chat',
  hi: 'Hi there',
  hiName: 'Hi {name}',
  greeting: 'Ask us anything — we usually reply in a few minutes.',
  online: 'We are online',
  away: 'We are away right now',
  awayText: "Leave us a message and we'll get back to you by email.",
  backAt: "We're back at {when}.",
  name: 'Name',
  email: 'Email',
  message: 'Message',
  howHelp: 'How can we help?',
  start: 'Start conversation',
  leave: 'Send message',
  required: 'Please fill in this field.',
  badEmail: 'Please enter a valid email address.',
  optional: 'optional',
  close: 'Minimise chat',
  end: 'End conversation',
  endAsk: 'End this conversation?',
  cancel: 'Cancel',
  write: 'Write a message…',
  send: 'Send',
  you: 'You',
  team: 'Support team',
  waiting: 'Waiting for an agent…',
  queue: "You're #{n} in line · about {m} min",
  offlineNote: "Thanks! We're away right now and will reply to you as soon as we're back.",
  replies: 'Typically replies in a few minutes',
  agentHere: 'Online',
  botHere: 'Automated assistant',
  ended: 'Conversation ended',
  endedText: 'This conversation has ended.',
  rateAsk: 'How was your conversation?',
  good: 'Good',
  bad: 'Bad',
  comment: 'Tell us more (optional)',
  sendRating: 'Send feedback',
  thanks: 'Thanks for your feedback!',
  newChat: 'Start a new conversation',
  typing: '{name} is typing…',
  someone: 'Someone',
  seen: 'Seen',
  sent: 'Sent',
  sending: 'Sending…',
  queued: 'Waiting for network',
  failed: 'Not delivered',
  tooLong: 'Not delivered: the message is too long',
  retry: 'Retry',
  reconnecting: 'Reconnecting…',
  connecting: 'Connecting…',
  unavailable: 'Chat is not available on this page.',
  newMsgs: 'New messages',
  powered: 'Powered by Parley',
  joined: '{name} joined the conversation',
  closedByYou: 'You ended the conversation',
  closedByAgent: 'The agent ended the conversation',
  closed: 'The conversation was closed',
  requeued: 'The agent was disconnected; waiting for another agent',
  transferred: 'Transferred to another team',
  attach: 'Attach files',
  dropHere: 'Drop files here to send them',
  cancelUpload: 'Cancel upload',
  dismiss: 'Dismiss',
  download: 'Download',
  file: 'File',
  removed: 'File removed',
  tooBig: 'Too large: files can be up to {max}',
  tooBig0: 'This file is too large',
  badType: 'This type of file cannot be sent',
  noUploads: 'Sending files is turned off',
  slowDown: 'Too many files at once: try again in a moment',
  rejected: 'This file was refused by the security check',
  netErr: 'Upload failed: check your connection',
  upFailed: 'The file could not be sent',
  reply: 'Write a reply…',
  yourReply: 'Your reply',
  requestCall: 'Request a call',
  callInvideo: 'Incoming video call',
  callInaudio: 'Incoming voice call',
  callReqvideo: 'You requested a video call',
  callReqaudio: 'You requested a voice call',
  callAccepted: 'Call started',
  callDeclined: 'Call declined',
  callMissed: 'Missed call',
  callNoAnswer: 'No answer',
  callCancelled: 'Call cancelled',
  callEndvideo: 'Video call · {d}',
  callEndaudio: 'Voice call · {d}',
};

const zh = {
  title: '在线客服',
  hi: '你好',
  hiName: '{name}，你好',
  greeting: '有任何问题都可以问我们，通常几分钟内回复。',
  online: '客服在线',
  away: '客服暂时不在',
  awayText: '请留言，我们会通过电子邮件回复你。',
  backAt: '我们将于{when}恢复服务。',
  name: '姓名',
  email: '电子邮箱',
  message: '留言',
  howHelp: '有什么可以帮你？',
  start: '开始对话',
  leave: '发送留言',
  required: '请填写此项。',
  badEmail: '请输入有效的电子邮箱地址。',
  optional: '选填',
  close: '最小化聊天窗口',
  end: '结束对话',
  endAsk: '确定结束此对话？',
  cancel: '取消',
  write: '输入消息…',
  send: '发送',
  you: '你',
  team: '客服团队',
  waiting: '正在等待客服接入…',
  queue: '你前面排在第 {n} 位 · 预计约 {m} 分钟',
  offlineNote: '谢谢！我们暂时不在，回来后会尽快回复你。',
  replies: '通常几分钟内回复',
  agentHere: '在线',
  botHere: '自动助手',
  ended: '对话已结束',
  endedText: '此对话已结束。',
  rateAsk: '你对本次对话满意吗？',
  good: '满意',
  bad: '不满意',
  comment: '补充说明（选填）',
  sendRating: '提交评价',
  thanks: '感谢你的评价！',
  newChat: '开始新对话',
  typing: '{name} 正在输入…',
  someone: '客服',
  seen: '已读',
  sent: '已发送',
  sending: '发送中…',
  queued: '等待网络连接',
  failed: '发送失败',
  tooLong: '发送失败：消息太长',
  retry: '重试',
  reconnecting: '正在重新连接…',
  connecting: '正在连接…',
  unavailable: '此页面无法使用在线客服。',
  newMsgs: '新消息',
  powered: '由 Parley 提供支持',
  joined: '{name} 加入了对话',
  closedByYou: '你结束了对话',
  closedByAgent: '客服结束了对话',
  closed: '对话已结束',
  requeued: '客服已断开连接，正在等待其他客服',
  transferred: '已转接至其他团队',
  attach: '发送文件',
  dropHere: '将文件拖放到此处即可发送',
  cancelUpload: '取消上传',
  dismiss: '关闭',
  download: '下载',
  file: '文件',
  removed: '文件已删除',
  tooBig: '文件太大：上限为 {max}',
  tooBig0: '文件太大',
  badType: '不支持发送此类型的文件',
  noUploads: '已关闭文件发送',
  slowDown: '发送文件过于频繁，请稍后再试',
  rejected: '文件未通过安全检查',
  netErr: '上传失败：请检查网络连接',
  upFailed: '文件发送失败',
  reply: '输入回复…',
  yourReply: '你的回复',
  requestCall: '请求通话',
  callInvideo: '视频来电',
  callInaudio: '语音来电',
  callReqvideo: '你请求了视频通话',
  callReqaudio: '你请求了语音通话',
  callAccepted: '通话已接通',
  callDeclined: '通话已拒绝',
  callMissed: '未接来电',
  callNoAnswer: '无人接听',
  callCancelled: '通话已取消',
  callEndvideo: '视频通话 · {d}',
  callEndaudio: '语音通话 · {d}',
};

export let lang = 'en';
let dict = en;

/** 'en' | 'zh-CN' | 'auto' (browser languages). */
export function setLanguage(pref) {
  let l = pref;
  if (l !== 'en' && l !== 'zh-CN') {
    const list = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ''];
    l = /^zh/i.test(list[0] || '') ? 'zh-CN' : 'en';
  }
  lang = l;
  dict = l === 'zh-CN' ? zh : en;
  document.documentElement.lang = l;
}

export function t(key, vars) {
  let s = dict[key] || en[key] || key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k])));
  return s;
}

/**
 * A sentence with a {name} from people, for rendering: the text around it
 * and the name in a <bdi> (balanced), so that a right-to-left name or a
 * control in it cannot reorder the words of the sentence. The rendered
 * text is the same as t()'s: nothing invisible is added.
 */
export function tName(key, name) {
  const [before, after = ''] = t(key).split('{name}');
  return [before, h('bdi', null, balance(name)), after];
}

/**
 * Event lines carry a stable code (`event`, with `event_agent` / `event_by`);
 * word them in our language. The English `body` is the fallback for codes
 * this build does not know.
 */
export function eventText(msg, all) {
  const name = msg.event_agent;
  const call = msg.event_call || { media: 'audio' };
  switch (msg.event) {
    case 'call_offered':
      return t('callIn' + call.media);
    case 'call_requested':
      return t('callReq' + call.media);
    case 'call_accepted':
      return t('callAccepted');
    case 'call_declined':
      return t('callDeclined');
    case 'call_missed':
      // A call the visitor asked for that nobody took is no "missed call" of theirs.
      return all && all.some((m) => m.event === 'call_requested' && m.event_call && m.event_call.id === call.id) ? t('callNoAnswer') : t('callMissed');
    case 'call_cancelled':
      return t('callCancelled');
    case 'call_ended':
      return t('callEnd' + call.media, { d: clock(call.duration) });
    case 'assigned':
    case 'reopened':
      return name ? tName('joined', name) : balance(msg.body);
    case 'transferred':
      return name ? tName('joined', name) : t('transferred');
    case 'closed':
      return msg.event_by === 'visitor' ? t('closedByYou') : msg.event_by === 'agent' ? t('closedByAgent') : t('closed');
    case 'requeued':
      return t('requeued');
    default:
      return balance(msg.body);
  }
}

/**
 * "We're back Thursday 9:00 AM." for when the team opens again: the
 * visitor's own time zone, with the weekday (and the date when it is a
 * week or more away). '' for a time that does not parse.
 */
export function backAtText(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const opts = { weekday: 'long', hour: 'numeric', minute: '2-digit' };
  if (d.getTime() - Date.now() > 6 * 864e5) Object.assign(opts, { month: 'short', day: 'numeric' });
  return t('backAt', { when: new Intl.DateTimeFormat(lang, opts).format(d) });
}

/** A duration in seconds as a clock: 0:42, 4:05, 1:02:09. */
export function clock(sec) {
  sec = Math.max(0, Math.floor(sec || 0));
  const p = (n) => String(n).padStart(2, '0');
  const h = Math.floor(sec / 3600);
  const m = Math.floor(sec / 60) % 60;
  return (h ? `${h}:${p(m)}` : m) + ':' + p(sec % 60);
}

/** The time of day of an ISO time, as our language writes it. */
export const time = (iso) => fmtClock(iso, lang);
