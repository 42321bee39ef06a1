import type { MailAttachment, MailMessage } from '../mail/index.js';

/** The .ics attachment of a reservation (null: none); failures are the caller's to swallow. */
export type CalendarInvite = (ref: { tenantId: string; reservationId: string }) => Promise<MailAttachment | null>;

/**
 * Mails to guests (plain text + HTML). Links carry the manage token in the URL fragment, which
 * browsers never send to a server, so it stays out of access logs and Referer headers; the page
 * posts it to the API in a JSON body (ASVS 3.1.1).
 */
export interface GuestMailInput {
  to: string;
  name: string;
  tenantName: string;
  serviceName: string;
  start: string;
  timezone: string;
  token: string;
  publicUrl: string;
  /** Pending until the guest confirms (hold), or already confirmed by the tenant's settings. */
  pendingUntil: string | null;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function manageUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/booking/manage#token=${token}`;
}

export function confirmUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/booking/confirm#token=${token}`;
}

function when(start: string, timeZone: string): string {
  return `${new Intl.DateTimeFormat('en-GB', { dateStyle: 'full', timeStyle: 'short', timeZone }).format(new Date(start))} (${timeZone})`;
}

/** The mail sent after a guest booking: confirm link when pending, manage link always. */
export function guestBookingMail(m: GuestMailInput, invite: MailAttachment | null = null): MailMessage {
  const at = when(m.start, m.timezone);
  const manage = manageUrl(m.publicUrl, m.token);
  const confirm = confirmUrl(m.publicUrl, m.token);
  const lines = [
    `Hello ${m.name},`,
    '',
    `${m.tenantName}: ${m.serviceName} on ${at}.`,
    '',
    ...(m.pendingUntil
      ? [`Please confirm this booking before ${m.pendingUntil}; until then the time is held for you:`, confirm, '']
      : ['Your booking is confirmed.', '']),
    'View, cancel or reschedule it (no account needed):',
    manage,
    '',
    'If you did not make this booking, ignore this message; an unconfirmed booking is released automatically.',
  ];
  const html = [
    `<p>Hello ${escapeHtml(m.name)},</p>`,
    `<p>${escapeHtml(m.tenantName)}: ${escapeHtml(m.serviceName)} on ${escapeHtml(at)}.</p>`,
    m.pendingUntil
      ? `<p>Please confirm this booking before ${escapeHtml(m.pendingUntil)}; until then the time is held for you:<br><a href="${escapeHtml(confirm)}">Confirm my booking</a></p>`
      : '<p>Your booking is confirmed.</p>',
    `<p><a href="${escapeHtml(manage)}">View, cancel or reschedule</a> (no account needed).</p>`,
    '<p>If you did not make this booking, ignore this message; an unconfirmed booking is released automatically.</p>',
  ].join('\n');
  return {
    to: m.to,
    subject: m.pendingUntil ? `Confirm your booking with ${m.tenantName}` : `Your booking with ${m.tenantName}`,
    text: lines.join('\n') + '\n',
    html,
    ...(invite ? { attachments: [invite] } : {}),
  };
}

/** After a reschedule through a manage link: the old link is used up, this is the new one. */
export function guestRescheduledMail(m: Omit<GuestMailInput, 'pendingUntil'>, invite: MailAttachment | null = null): MailMessage {
  const at = when(m.start, m.timezone);
  const manage = manageUrl(m.publicUrl, m.token);
  return {
    to: m.to,
    subject: `Your booking with ${m.tenantName} was moved`,
    text: `Hello ${m.name},\n\n${m.tenantName}: ${m.serviceName} is now on ${at}.\n\nYour previous link no longer works. View, cancel or reschedule with this one:\n${manage}\n`,
    html: `<p>Hello ${escapeHtml(m.name)},</p>\n<p>${escapeHtml(m.tenantName)}: ${escapeHtml(m.serviceName)} is now on ${escapeHtml(at)}.</p>\n<p>Your previous link no longer works. <a href="${escapeHtml(manage)}">View, cancel or reschedule</a>.</p>`,
    ...(invite ? { attachments: [invite] } : {}),
  };
}
