/** An outgoing message. Bodies are plain text; links carry one-time tokens. */
export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** The mail port. Implementations: SMTP (`smtp-transport.ts`), development log (`log-transport.ts`). */
export interface MailTransport {
  send(message: MailMessage): Promise<void>;
}
