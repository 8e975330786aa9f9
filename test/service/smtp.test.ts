import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpMailer } from '../../src/adapters/mail/smtp-mailer.js';

/** The real nodemailer transport against a local SMTP server that captures the messages. */
describe('SMTP mailer', () => {
  const received: { from: string; to: string[]; raw: string; user: string | undefined }[] = [];
  let server: SMTPServer;
  let port = 0;
  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onAuth(auth, _session, cb) {
        cb(auth.username === 'me' && auth.password === 'pw' ? null : new Error('bad login'), {
          user: auth.username,
        });
      },
      onData(stream, session, cb) {
        let raw = '';
        stream.on('data', (c: Buffer) => {
          raw += c.toString();
        });
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? (session.envelope.mailFrom as { address: string }).address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            user: session.user as string | undefined,
          });
          cb();
        });
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends a report with authentication; the password comes from the settings (env)', async () => {
    const mailer = new SmtpMailer({
      host: '127.0.0.1',
      port,
      secure: false,
      user: 'me',
      password: 'pw',
      from: 'tk@example.com',
      to: ['owner@example.com'],
    });
    await mailer.send({
      subject: '[tradekernel] paper-main daily 2022-09-11',
      text: '# tradekernel daily report\n\n| equity | 1,009.09 USDT |',
    });
    await mailer.close();
    expect(received).toHaveLength(1);
    expect(received[0]!.to).toEqual(['owner@example.com']);
    expect(received[0]!.from).toBe('tk@example.com');
    expect(received[0]!.user).toBe('me');
    expect(received[0]!.raw).toMatch(/Subject: \[tradekernel\] paper-main daily 2022-09-11/);
    expect(received[0]!.raw).toMatch(/equity/);
  });
});
