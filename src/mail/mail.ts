/** An outgoing message. Bodies are plain text; links carry one-time tokens. */
export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** Optional HTML alternative of `text` (same content, values HTML-escaped). */
  readonly html?: string;
  /** Files sent with the message, e.g. an .ics invitation (RFC 5546 iMIP). */
  readonly attachments?: readonly MailAttachment[];
}

/** A small text attachment; `contentType` carries any parameters (`text/calendar; method=REQUEST`). */
export interface MailAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly content: string;
}

/** The mail port. Implementations: SMTP (`smtp-transport.ts`), development log (`log-transport.ts`). */
export interface MailTransport {
  send(message: MailMessage): Promise<void>;
}
