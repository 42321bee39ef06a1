import type { Config } from '../config/config.js';
import { createLogTransport } from './log-transport.js';
import type { MailTransport } from './mail.js';
import { createSmtpTransport } from './smtp-transport.js';

export type { MailAttachment, MailMessage, MailTransport } from './mail.js';

/** SMTP when SMTP_URL is set; otherwise the log transport, which production refuses. */
export function createMailTransport(
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'env'>,
  log: (line: string) => void,
): MailTransport {
  if (config.smtpUrl) return createSmtpTransport(config.smtpUrl, config.mailFrom);
  if (config.env === 'production') throw new Error('SMTP_URL is required in production');
  // Attachments are named, never printed: an .ics carries the same data as the text, nothing more.
  return createLogTransport((m) =>
    log(`mail to ${m.to}: ${m.subject}\n${m.text}${(m.attachments ?? []).map((a) => `\n[attachment ${a.filename}, ${a.contentType}, ${a.content.length} chars]`).join('')}`),
  );
}
