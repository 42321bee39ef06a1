import type { MailMessage, MailTransport } from './mail.js';

/**
 * Development transport: writes each message to the log (its text may hold a one-time token,
 * which is why it is refused in production) and keeps the last ones for tests.
 */
export function createLogTransport(log: (msg: MailMessage) => void): MailTransport & { readonly sent: MailMessage[] } {
  const sent: MailMessage[] = [];
  return {
    sent,
    async send(message) {
      sent.push(message);
      if (sent.length > 100) sent.shift();
      log(message);
    },
  };
}
