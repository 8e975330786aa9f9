/**
 * E-mail over SMTP (nodemailer): the service's daily report and alerts. The password comes from
 * the environment (TRADEKERNEL_SMTP_PASSWORD), never from the config file.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { SmtpSettings } from '../../service/config.js';

export interface Mail {
  subject: string;
  /** plain text (the Markdown itself reads well as text) */
  text: string;
  html?: string;
}

/** The port the service sends through; tests pass a recorder or a real SMTP server. */
export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): Promise<void>;
}

export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;
  constructor(private readonly settings: SmtpSettings) {
    this.transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
      // a local test server or a relay on the LAN may have no certificate worth checking
      tls: { rejectUnauthorized: settings.secure },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }
  async send(mail: Mail): Promise<void> {
    await this.transport.sendMail({
      from: this.settings.from,
      to: [...this.settings.to],
      subject: mail.subject,
      text: mail.text,
      ...(mail.html ? { html: mail.html } : {}),
    });
  }
  async close(): Promise<void> {
    this.transport.close();
  }
}
