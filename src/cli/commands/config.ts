import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { isCcxtExchange } from '../../adapters/exchange/ccxt-candle-source.js';
import { ConfigError } from '../../domain/errors.js';
import {
  CONFIG_FILE,
  defaultConfigText,
  parseConfigText,
  validateServiceConfig,
} from '../../service/config.js';
import { printJson } from '../output.js';
import { setExitCode } from './shared.js';

/** `tradekernel init` and `tradekernel config check` (docs/service.md). */
export function registerConfigCommands(program: Command): void {
  program
    .command('init')
    .description(
      `write a commented default ${CONFIG_FILE} (BTC, ETH, SOL on Binance, 1h, $1,000, the owner's risk rules)`,
    )
    .option('--file <path>', 'where to write it', CONFIG_FILE)
    .option('--force', 'overwrite an existing file')
    .action((o: { file: string; force?: boolean }) => {
      if (existsSync(o.file) && !o.force)
        throw new ConfigError(
          `${o.file} already exists`,
          'edit it, or pass --force to overwrite it with the defaults',
        );
      writeFileSync(o.file, defaultConfigText());
      console.log(
        `wrote ${o.file}. Check it with \`tradekernel config check\`, start paper trading with \`npm start\`.`,
      );
    });

  const config = program.command('config').description('the service configuration');
  config
    .command('check')
    .description(`validate ${CONFIG_FILE} and the environment (secrets); names the key and the fix`)
    .option('--config <file>', 'the file to check', CONFIG_FILE)
    .option('--json', 'print the result (and the effective configuration) as JSON')
    .action(async (o: { config: string; json?: boolean }) => {
      try {
        if (!existsSync(o.config))
          throw new ConfigError(`${o.config}: no such file`, 'write one with `tradekernel init`');
        const effective = validateServiceConfig(
          parseConfigText(readFileSync(o.config, 'utf8'), o.config),
          o.config,
        );
        // the service would only find out at its first live cycle
        if (!(await isCcxtExchange(effective.exchange)))
          throw new ConfigError(
            `${o.config}: "exchange": "${effective.exchange}" is not an exchange ccxt knows`,
            'use a ccxt exchange id, for example binance, kraken, okx, bybit, coinbase',
          );
        const shown = {
          ...effective,
          smtp: effective.smtp
            ? { ...effective.smtp, password: effective.smtp.password ? '(set)' : null }
            : null,
        };
        if (o.json) printJson({ ok: true, file: o.config, config: shown });
        else
          console.log(
            `${o.config}: ok — account paper-${effective.account}, ${effective.exchange} ${effective.timeframe} ${effective.symbols.join(', ')}, ${effective.capital} ${effective.quoteCurrency}, strategies ${effective.strategies.map((s) => s.name).join(', ')}, e-mail ${effective.smtp ? 'on' : 'off'}`,
          );
      } catch (error) {
        if (!(error instanceof ConfigError) || !o.json) throw error;
        printJson({ ok: false, file: o.config, error: error.message, hint: error.hint ?? null });
        setExitCode(1);
      }
    });
}
