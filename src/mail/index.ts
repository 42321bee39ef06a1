import type { Config } from '../config/config.js';
import { createLogTransport } from './log-transport.js';
import type { MailTransport } from './mail.js';
import { createSmtpTransport } from './smtp-transport.js';

export type { MailMessage, MailTransport } from './mail.js';

/** SMTP when SMTP_URL is set; otherwise the log transport, which production refuses. */
export function createMailTransport(
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'env'>,
  log: (line: string) => void,
): MailTransport {
  if (config.smtpUrl) return createSmtpTransport(config.smtpUrl, config.mailFrom);
  if (config.env === 'production') throw new Error('SMTP_URL is required in production');
  return createLogTransport((m) => log(`mail to ${m.to}: ${m.subject}\n${m.text}`));
}
