/**
 * `lantian init`: provisions a gateway. Asks (or takes from flags, for scripted installs) the
 * site and gateway ids, where the log lives, the MQTT broker and the web page's password; writes
 * the site config and a secrets file (mode 0600), creates the gateway's key pair, tests the
 * broker login, and ends with check-config. Devices come after: `lantian scan --write`.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { confirm, input, password } from '@inquirer/prompts';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { inspectSiteConfig, ID_PATTERN, isTimeZone } from '../../config/index.js';
import { CURRENT_VERSION } from '../../config/schema.js';
import { isLantianError } from '../../core/errors.js';
import { createKeyPair } from '../../uplink/integrity/keys.js';
import { checkBroker } from '../broker-check.js';
import { checkHj212Platforms } from '../hj212-check.js';
import { EXIT, printProblems, processIo, type Io } from '../output.js';
import { summary } from './check-config.js';

export interface InitOptions {
  config: string;
  siteId?: string;
  siteName?: string;
  gatewayId?: string;
  timezone: string;
  stateDir: string;
  mqttUrl?: string;
  mqttUsername?: string;
  webPassword?: string;
  yes?: boolean;
  force?: boolean;
  brokerTest: boolean;
  /** Test each HJ 212 platform of the written config (a heartbeat, nothing uploaded). */
  platformTest?: boolean;
}

/** Everything the wizard asks; the same fields the flags give. */
export interface Answers {
  siteId: string;
  siteName: string;
  gatewayId: string;
  timezone: string;
  stateDir: string;
  mqttUrl?: string;
  mqttUsername?: string;
  mqttPassword?: string;
  webPassword?: string;
}

const idCheck = (v: string) =>
  ID_PATTERN.test(v) || '1-48 lower-case letters, digits, - or _, starting with a letter';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('provision this gateway: site config, secrets file, key pair, broker test, check-config')
    .option('--config <file>', 'site config to write', '/etc/lantian/site.yaml')
    .option('--site-id <id>', 'site id')
    .option('--site-name <name>', 'site name')
    .option('--gateway-id <id>', 'gateway id (in every MQTT topic)')
    .option('--timezone <tz>', 'IANA time zone of the site', 'Asia/Shanghai')
    .option('--state-dir <dir>', 'where the log and the key pair live', '/var/lib/lantian')
    .option('--mqtt-url <url>', 'MQTT broker, e.g. mqtts://broker.example.cn:8883 (none: no MQTT uplink)')
    .option('--mqtt-username <name>', 'MQTT user name (the password comes from LANTIAN_MQTT_PASSWORD)')
    .option(
      '--web-password <text>',
      'serve the web page on every interface with this password (or LANTIAN_WEB_PASSWORD)',
    )
    .option('-y, --yes', 'ask nothing: take every answer from flags, environment and defaults')
    .option('--force', 'overwrite an existing config and secrets file')
    .option('--no-broker-test', 'do not try to log in to the broker')
    .option('--no-platform-test', 'do not try to reach the HJ 212 platforms')
    .action(async (o: InitOptions) => {
      process.exitCode = await init(o, processIo);
    });
}

async function ask(o: InitOptions): Promise<Answers> {
  const siteId = await input({ message: 'Site id', default: o.siteId, validate: idCheck });
  const siteName = await input({ message: 'Site name', default: o.siteName ?? siteId });
  const gatewayId = await input({
    message: 'Gateway id',
    default: o.gatewayId ?? `${siteId}-gw1`,
    validate: idCheck,
  });
  const timezone = await input({
    message: 'Time zone',
    default: o.timezone,
    validate: (v) => isTimeZone(v) || 'an IANA time zone such as Asia/Shanghai',
  });
  const stateDir = await input({ message: 'State directory (log, keys)', default: o.stateDir });
  const a: Answers = { siteId, siteName, gatewayId, timezone, stateDir };
  const url = await input({ message: 'MQTT broker URL (empty: none)', default: o.mqttUrl ?? '' });
  if (url) {
    a.mqttUrl = url;
    const user = await input({ message: 'MQTT user name (empty: none)', default: o.mqttUsername ?? '' });
    if (user) {
      a.mqttUsername = user;
      a.mqttPassword = await password({ message: 'MQTT password', mask: '*' });
    }
  }
  if (await confirm({ message: 'Serve the web page on the network (with a password)?', default: true })) {
    a.webPassword = await password({
      message: 'Web page password',
      mask: '*',
      validate: (v) => v.length >= 8 || 'at least 8 characters',
    });
  }
  return a;
}

function fromFlags(o: InitOptions): Answers | string {
  if (!o.siteId) return '--site-id is needed with --yes';
  const a: Answers = {
    siteId: o.siteId,
    siteName: o.siteName ?? o.siteId,
    gatewayId: o.gatewayId ?? `${o.siteId}-gw1`,
    timezone: o.timezone,
    stateDir: o.stateDir,
  };
  if (o.mqttUrl) a.mqttUrl = o.mqttUrl;
  if (o.mqttUsername) a.mqttUsername = o.mqttUsername;
  const mqttPassword = process.env.LANTIAN_MQTT_PASSWORD;
  if (mqttPassword) a.mqttPassword = mqttPassword;
  const web = o.webPassword ?? process.env.LANTIAN_WEB_PASSWORD;
  if (web) a.webPassword = web;
  return a;
}

/** The site config and secrets for the answers; secrets stay out of the config. */
export function provisioned(
  a: Answers,
  configFile: string,
): { config: unknown; secrets: Record<string, string> } {
  const secrets: Record<string, string> = {};
  const uplinks: Record<string, unknown> = {};
  if (a.mqttUrl) {
    const mqtt: Record<string, unknown> = { url: a.mqttUrl };
    if (a.mqttUsername) mqtt.username = a.mqttUsername;
    if (a.mqttPassword) {
      secrets['mqtt-password'] = a.mqttPassword;
      mqtt.password = { secret: 'mqtt-password' };
    }
    uplinks.mqtt = mqtt;
  }
  const config: Record<string, unknown> = {
    version: CURRENT_VERSION,
    site: { id: a.siteId, name: a.siteName, timezone: a.timezone },
    gateway: { id: a.gatewayId },
    secretsFile: 'secrets.yaml',
    buses: {},
    devices: {},
    uplinks,
    storage: { path: relativeOrAbsolute(configFile, join(a.stateDir, 'log.db')) },
  };
  if (a.webPassword) {
    secrets['web-password'] = a.webPassword;
    config.web = { host: '0.0.0.0', port: 8080, password: { secret: 'web-password' } };
  }
  return { config, secrets };
}

const relativeOrAbsolute = (configFile: string, path: string) =>
  isAbsolute(path) ? path : relative(dirname(resolve(configFile)), resolve(path));

export async function init(o: InitOptions, io: Io): Promise<number> {
  const file = resolve(o.config);
  const secretsFile = join(dirname(file), 'secrets.yaml');
  if (!o.force && (existsSync(file) || existsSync(secretsFile))) {
    io.err(
      `lantian init: ${existsSync(file) ? file : secretsFile} exists; keep it, or pass --force to replace it`,
    );
    return EXIT.invalid;
  }
  const interactive = !o.yes && process.stdin.isTTY === true;
  const answers = interactive ? await ask(o) : fromFlags(o);
  if (typeof answers === 'string') {
    io.err(`lantian init: ${answers}`);
    return EXIT.invalid;
  }
  const { config, secrets } = provisioned(answers, file);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(secretsFile, stringify(secrets), { mode: 0o600 });
  chmodSync(secretsFile, 0o600);
  writeFileSync(
    file,
    `# Written by lantian init. Add devices with: lantian scan --write ${o.config}\n${stringify(config)}`,
  );
  io.out(`wrote ${file}`);
  io.out(`wrote ${secretsFile} (mode 0600)`);
  const state = resolve(answers.stateDir);
  mkdirSync(state, { recursive: true });
  try {
    const keys = createKeyPair(state);
    io.out(`key pair ${keys.privateKey} (mode 0600), fingerprint ${keys.fingerprint}`);
  } catch (e) {
    if (!isLantianError(e, 'INTEGRITY_KEY_EXISTS')) throw e;
    io.out(`key pair kept: ${e.message}`);
  }
  const { problems, loaded } = inspectSiteConfig(file);
  printProblems(io, file, problems);
  if (!loaded) return EXIT.invalid;
  let code: number = EXIT.ok;
  if (o.brokerTest) {
    const b = await checkBroker(loaded);
    if (b?.ok) io.out(`broker ${b.url}: logged in (${b.ms} ms)`);
    else if (b) {
      io.err(`broker ${b.url}: cannot log in: ${b.error}`);
      code = EXIT.unexpected;
    }
  }
  if (o.platformTest && !(await checkHj212Platforms(loaded, io))) code = EXIT.unexpected;
  io.out(summary(loaded));
  return code;
}
