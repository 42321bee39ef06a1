/** An outgoing message. Bodies are plain text; links carry one-time tokens. */
export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** Optional HTML alternative of `text` (same content, values HTML-escaped). */
  readonly html?: string;
}

/** The mail port. Implementations: SMTP (`smtp-transport.ts`), development log (`log-transport.ts`). */
export interface MailTransport {
  send(message: MailMessage): Promise<void>;
}
