/**
 * Alerts (immediately: drawdown thresholds, loss-limit halts, data-collection failures, errors)
 * and scheduled reports (daily Markdown + e-mail, weekly deep dive on Mondays). Sending never
 * stops trading: a failed e-mail is logged and the report stays on disk.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Mailer } from '../adapters/mail/smtp-mailer.js';
import type { NewEvent } from '../domain/events/envelope.js';
import type { ServiceConfig } from './config.js';
import type { CycleReport, PaperTradingService } from './paper-service.js';
import { DAY, dailyReport, weeklyReport } from './reporting.js';

export interface Alert {
  kind: 'drawdown' | 'halt' | 'data-collection' | 'projections' | 'error' | 'control';
  subject: string;
  text: string;
}

export class Notifier {
  /** thresholds crossed and alerted; re-armed once drawdown recovers below t - rearmMargin */
  private crossed = new Set<number>();
  /** symbols whose collection failed at the last attempt (alerted once, until collected again) */
  private failing = new Set<string>();
  /** the read models stopped updating (alerted once, until a run succeeds again) */
  private projectionsFailing = false;
  readonly sent: Alert[] = [];
  private lastDaily = '';
  private lastWeekly = '';

  constructor(
    private readonly config: ServiceConfig,
    private readonly logger: Logger,
    private readonly mailer: Mailer | null,
    private readonly reportDir: string,
  ) {}

  /** Logged and e-mailed at once; a failed e-mail is logged, never thrown. */
  async alert(alert: Alert): Promise<void> {
    this.sent.push(alert);
    this.logger.warn({ alert: alert.kind, subject: alert.subject }, 'alert');
    await this.mail(`[tradekernel] ALERT ${alert.subject}`, alert.text);
  }

  private async mail(subject: string, text: string): Promise<boolean> {
    if (!this.mailer) return false;
    try {
      await this.mailer.send({ subject, text });
      return true;
    } catch (error) {
      this.logger.error({ err: (error as Error).message, subject }, 'e-mail not sent');
      return false;
    }
  }

  /** Loss limits and drawdown halts come out of the kernel as TradingHalted: one alert each. */
  async onDecisions(service: PaperTradingService, events: readonly NewEvent[]): Promise<void> {
    for (const e of events) {
      if (e.type === 'TradingHalted') {
        const d = e.data as { rule: string; reason: string; until?: number | null };
        await this.alert({
          kind: 'halt',
          subject: `${service.account}: ${d.rule} reached, new entries halted`,
          text: `${d.reason}\n\nat ${new Date(e.metadata.occurredAt).toISOString()}${
            d.until
              ? `, until ${new Date(d.until).toISOString()}`
              : ', until resumed (tradekernel control resume)'
          }`,
        });
      }
    }
  }

  /**
   * After a start or restart, from the recovered account: the thresholds its drawdown is already
   * past were crossed while the log was written, and the process that crossed them alerted then;
   * only new crossings alert (a restart in a drawdown sends no second e-mail for it).
   */
  resume(service: PaperTradingService): void {
    const dd = service.kernelView.status().drawdown;
    for (const t of this.config.alerts.drawdownThresholds) if (dd >= t) this.crossed.add(t);
    if (this.crossed.size > 0)
      this.logger.info(
        { drawdown: dd, thresholds: [...this.crossed] },
        'drawdown thresholds already alerted',
      );
  }

  /**
   * Drawdown thresholds with hysteresis: one alert when drawdown crosses a threshold (naming the
   * highest one crossed at once), none while it stays above, and the threshold re-arms only
   * once drawdown is back below it by `rearmMargin`, so a drawdown hovering at a threshold does
   * not alert every candle.
   */
  async onCycle(service: PaperTradingService, report: Pick<CycleReport, 'failedSymbols'>): Promise<void> {
    const status = service.kernelView.status();
    const dd = status.drawdown;
    const newly = this.config.alerts.drawdownThresholds.filter((t) => dd >= t && !this.crossed.has(t));
    for (const t of newly) this.crossed.add(t);
    const highest = newly[newly.length - 1];
    if (highest !== undefined) {
      await this.alert({
        kind: 'drawdown',
        subject: `${service.account}: drawdown ${(dd * 100).toFixed(1)} % crossed ${(highest * 100).toFixed(0)} %`,
        text: `Equity ${status.equity.toFixed(2)} ${this.config.quoteCurrency}, peak ${status.peakEquity.toFixed(2)}.\nOpen positions: ${service.kernelView.openPositions().length}.`,
      });
    }
    for (const t of [...this.crossed]) {
      if (dd < t - this.config.alerts.rearmMargin) {
        this.crossed.delete(t);
        this.logger.info({ threshold: t, drawdown: dd }, 'drawdown recovered: alert re-armed');
      }
    }
    for (const symbol of [...this.failing]) {
      if (report.failedSymbols.includes(symbol)) continue;
      this.failing.delete(symbol);
      await this.alert({
        kind: 'data-collection',
        subject: `${service.account}: ${symbol} collected again`,
        text: 'The exchange answers again; the missed candles were backfilled in order before any new decision.',
      });
    }
  }

  /** The first failure of a symbol alerts; repeats while it keeps failing are only logged. */
  async onCollectionFailed(service: PaperTradingService, symbol: string, error: unknown): Promise<void> {
    if (this.failing.has(symbol)) return;
    this.failing.add(symbol);
    await this.alert({
      kind: 'data-collection',
      subject: `${service.account}: ${symbol} data collection failed`,
      text: `${(error as Error)?.message ?? String(error)}\n\nNo decision is taken on stale data; missed candles are backfilled in order once the exchange answers.`,
    });
  }

  /**
   * The projections worker failed a run: the first failure alerts (trading goes on, but the read
   * models, the API and Grafana stop moving); its retries every few seconds are only logged.
   */
  async onProjectionsFailed(account: string, error: unknown): Promise<void> {
    if (this.projectionsFailing) return;
    this.projectionsFailing = true;
    await this.alert({
      kind: 'projections',
      subject: `${account}: read models stopped updating`,
      text: `${(error as Error)?.message ?? String(error)}\n\nTrading goes on and every decision is in the event log; the read models (API, Grafana, reports from them) lag until the projections apply again. They retry every few seconds; /health/ready and \`tradekernel projections status\` show the lag and the error.`,
    });
  }

  /** The projections apply again after a failure: one alert. */
  async onProjectionsRecovered(account: string): Promise<void> {
    if (!this.projectionsFailing) return;
    this.projectionsFailing = false;
    await this.alert({
      kind: 'projections',
      subject: `${account}: read models updating again`,
      text: 'The projections caught up with the event log after the failure reported earlier.',
    });
  }

  /** The daily report of the previous UTC day once `dailyHourUtc` has passed and its data is handled. */
  async reportsDue(service: PaperTradingService, now: number): Promise<string[]> {
    const written: string[] = [];
    const today = Math.floor(now / DAY) * DAY;
    if (now < today + this.config.reports.dailyHourUtc * 3_600_000) return written;
    const from = today - DAY;
    if (
      service.handledUntil < today ||
      (service.recentDecisions.length === 0 && !Number.isFinite(service.handledUntil))
    )
      return written;
    if (today <= service.startedFrom) return written;
    const key = new Date(from).toISOString().slice(0, 10);
    if (key !== this.lastDaily) {
      this.lastDaily = key;
      const path = join(this.reportDir, `daily-${key}.md`);
      if (!existsSync(path)) {
        written.push(
          await this.writeReport(
            path,
            `${service.account} daily ${key}`,
            dailyReport(this.input(service, from, today)),
          ),
        );
      }
    }
    // Monday: the week that just ended
    if (this.config.reports.weekly && new Date(today).getUTCDay() === 1) {
      const weekFrom = today - 7 * DAY;
      const wkey = new Date(weekFrom).toISOString().slice(0, 10);
      if (wkey !== this.lastWeekly) {
        this.lastWeekly = wkey;
        const path = join(this.reportDir, `weekly-${wkey}.md`);
        if (!existsSync(path))
          written.push(
            await this.writeReport(
              path,
              `${service.account} weekly ${wkey}`,
              weeklyReport(this.input(service, weekFrom, today)),
            ),
          );
      }
    }
    return written;
  }

  /** A report of the last 24 hours of event time (the demo's closing summary). */
  async latest(service: PaperTradingService): Promise<string> {
    const to = Number.isFinite(service.handledUntil) ? service.handledUntil : 0;
    const path = join(this.reportDir, 'latest.md');
    mkdirSync(this.reportDir, { recursive: true });
    writeFileSync(path, dailyReport(this.input(service, to - DAY, to)));
    return path;
  }

  private input(service: PaperTradingService, from: number, to: number) {
    return {
      account: service.account,
      capital: this.config.capital,
      quote: this.config.quoteCurrency,
      kernel: service.kernelView,
      trades: service.closedTrades(),
      curve: service.equityCurve(),
      history: service.recentDecisions,
      from,
      to,
    };
  }

  private async writeReport(path: string, subject: string, markdown: string): Promise<string> {
    mkdirSync(this.reportDir, { recursive: true });
    writeFileSync(path, markdown);
    this.logger.info({ report: path }, 'report written');
    await this.mail(`[tradekernel] ${subject}`, markdown);
    return path;
  }
}
