/**
 * Stable error codes, grouped by area. Each code has one line here and the same line in
 * docs/errors.md (a test keeps them in step). Tests assert codes, never message text.
 * Add a code to its own area's block; never rename or reuse one.
 */
export const ERROR_CODES = {
  // transport: the link to a bus (serial port, TCP socket)
  TRANSPORT_TIMEOUT: 'The device or link gave no complete answer within the timeout.',
  TRANSPORT_CLOSED: 'The link closed while a request was pending or was used while closed.',
  TRANSPORT_CONNECT_FAILED: 'The serial port or TCP endpoint could not be opened.',

  // modbus: frames and protocol
  MODBUS_EXCEPTION: 'The device answered with a Modbus exception code (see context.exceptionCode).',
  MODBUS_CRC: 'A reply frame failed its CRC-16/MODBUS check.',
  MODBUS_BAD_REPLY: 'A reply frame was malformed: wrong unit id, function code, length or truncated.',

  // profile: device-profile files
  PROFILE_YAML: 'A device-profile file is not valid YAML.',
  PROFILE_INVALID: 'A device profile does not match the profile schema.',
  PROFILE_NOT_FOUND: 'No device profile has the requested id.',
  PROFILE_TEMPLATE_NOT_FOUND: 'A profile uses a template that does not exist.',
  PROFILE_DUPLICATE_ID: 'Two profile files declare the same profile id.',
  PROFILE_LINT: 'A profile passed the schema but breaks a lint rule (overlap, width, unit, identification).',
  PROFILE_EXAMPLE_MISMATCH: 'A profile example does not decode to the values it states.',

  // config: site configuration and secrets
  CONFIG_NOT_FOUND: 'The site-config or secrets file does not exist or cannot be read.',
  CONFIG_YAML: 'The site-config or secrets file is not valid YAML.',
  CONFIG_INVALID: 'The site config does not match the schema or refers to something that does not exist.',
  CONFIG_VERSION_UNSUPPORTED: 'The site config has a version this gateway cannot read or migrate.',
  CONFIG_MIGRATION_FAILED: 'Migrating the site config to the current version failed; the original is kept.',
  CONFIG_SECRET_MISSING: 'The site config refers to a secret the secrets file does not hold.',
  CONFIG_UNSUPPORTED: 'The site config uses a setting whose feature does not run yet; remove it.',

  // acquisition: polling, planning, decoding
  ACQ_DECODE: 'Register contents could not be decoded as the profile declares.',
  ACQ_PLAN: 'The points of a device cannot be read within its limits (read size, forbidden ranges).',
  ACQ_ABORTED: 'A poll was abandoned because the bus or gateway is stopping.',
  ACQ_OPTIONS_INVALID: 'The acquisition options are inconsistent (unknown point, duplicate device or bus).',
  ACQ_DEVICE_BACKOFF: 'A device was not polled in this period: it is backed off after failing to answer.',
  ACQ_OVERRUN:
    'A device was not polled in this slot: its previous poll was still running (the bus could not keep up).',
  ACQ_WRITE_RANGE: 'A value to write is outside the point range or cannot be held exactly by its type.',
  ACQ_WRITE_UNSUPPORTED:
    'A point of this type or table is not written (strings, BCD, shared bit fields, inputs).',
  ACQ_WRITE_MISMATCH: 'A written point read back a different value than was written.',
  ACQ_THREAD_FAILED: 'The acquisition worker thread could not start or stopped unexpectedly.',

  // processing: aggregation and conversions
  PROCESSING_INPUT_INVALID: 'A line of readings given to offline reprocessing is not a valid reading.',

  // store: the durable log
  STORE_OPEN_FAILED: 'The log file could not be opened.',
  STORE_CORRUPT: 'The log file is corrupt or truncated; it was left untouched.',
  STORE_SCHEMA_NEWER: 'The log file was written by a newer schema version than this gateway knows.',
  STORE_CLOSED: 'The log was used after it was closed.',
  STORE_LOCKED: 'Another process has the log file open; only one gateway may use a log at a time.',
  STORE_NOT_A_LOG: 'The file is not a Lantian log (another SQLite database); it was left untouched.',
  STORE_RECORD_INVALID: 'A record handed to the log is not valid; nothing of its batch was written.',
  STORE_WRITE_FAILED: 'Writing to the log failed (disk full, I/O error); the batch was not committed.',
  STORE_DISK_FULL: 'The disk holding the log is full; the message names the file and the space needed.',
  STORE_RECOVER_FAILED: 'A damaged log could not be recovered safely; nothing was moved (see the message).',
  STORE_MIGRATION_FAILED:
    'Upgrading the log schema failed; the upgrade was rolled back, the file is unchanged.',

  // uplink: MQTT and HJ 212
  UPLINK_PAYLOAD_INVALID: 'An outgoing or incoming payload does not match its schema.',
  UPLINK_TLS: 'A TLS file named in the config cannot be read.',
  UPLINK_NOT_CONNECTED: 'An uplink operation needs a connection that is not there.',
  UPLINK_OPTIONS_INVALID: 'The uplink options do not match their schema (see context.problems).',
  UPLINK_BROKER_FAILED: 'The embedded MQTT broker could not start or listen on its port.',
  UPLINK_RESEND_RANGE:
    'A resend asks for seqs the uplink does not hold: not sent yet, or older than it keeps.',

  // hj212: the HJ 212 codec and platform sessions
  HJ212_FRAME:
    'A packet is not framed as ## + 4-digit length + data segment + CRC + CRLF (see context.offset).',
  HJ212_LENGTH: "A packet's length field disagrees with its data segment, or the segment exceeds 1024 bytes.",
  HJ212_CRC: "A packet's CRC does not match its data segment under the expected CRC variant.",
  HJ212_SEGMENT: 'A data-segment or CP field is malformed or missing (see context.field and context.offset).',
  HJ212_BUILD: 'A packet to build breaks the standard (field format, separator in a value, length).',
  HJ212_DECRYPT: 'An SM4-encrypted data area cannot be decrypted (no key, malformed cipher block list).',
  HJ212_TIMEOUT: 'The platform did not answer a packet within OverTime after ReCount resends.',
  HJ212_STATE:
    'The file keeping what an HJ 212 platform set (MN, password, key, intervals) cannot be read or written.',

  // integrity: signing keys, sealed messages, the verifier
  INTEGRITY_KEY_EXISTS: 'A key pair already exists where a new one was to be created; it was kept.',
  INTEGRITY_KEY_INVALID: 'A key file cannot be read or does not hold an Ed25519 key in PEM.',
  INTEGRITY_KEY_UNSAFE: 'The private key file is readable by group or others; it must be mode 0600.',
  INTEGRITY_INPUT: 'A captured message cannot be read (not a topic and JSON payload) or encoded canonically.',
  INTEGRITY_RECEIVER_STORE:
    "The scale-out receiver's shared store cannot be opened (the message names the file).",

  // api: the local web page
  API_LISTEN_FAILED:
    'The local web page could not listen on its address (port in use, address not on this machine).',

  // commission: the commissioning run and its report
  COMMISSION_OPTION_INVALID:
    'An option of lantian commission is not valid (context.option and context.value say which).',

  // camera: snapshots from site cameras
  CAMERA_AUTH: 'The camera refused the user name and password (HTTP digest or ONVIF UsernameToken).',
  CAMERA_TIMEOUT: 'The camera did not send a whole answer within the timeout (hung, or trickling).',
  CAMERA_HTTP: 'The camera answered with an HTTP error status (5xx, 404, ...) instead of a picture.',
  CAMERA_UNREACHABLE: 'The camera could not be connected to (refused, no route, unknown host).',
  CAMERA_BAD_IMAGE: 'The camera sent something that is not a whole JPEG, or a picture over the size limit.',
  CAMERA_ONVIF: 'The ONVIF service answered with a SOAP fault or without a snapshot URI.',
  CAMERA_UNKNOWN: 'A snapshot was asked of a camera the site config does not name.',

  // nodered: the Node-RED nodes
  NODERED_CONFIG:
    "A Node-RED node's settings are missing or invalid (context.node and context.field say which).",
  NODERED_COMMAND_TIMEOUT:
    'A command sent by a Node-RED node got no result from the gateway within its timeout.',

  // sim: hardware simulator
  SIM_SCENARIO_INVALID: 'A simulator scenario file does not match its schema.',
  SIM_PTY_FAILED: 'A pseudo-terminal could not be created (is socat installed?).',
  SIM_CONTROL_INVALID: 'A fault-injection command to the simulator is not valid.',
  SIM_SCENARIO_NOT_FOUND: 'A simulator scenario file, or a file it names (CSV replay), cannot be read.',
  SIM_SCENARIO_YAML: 'A simulator scenario file is not valid YAML.',
  SIM_LISTEN_FAILED: 'A simulator bus or its control interface could not listen on its address.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export type ErrorContext = Record<string, unknown>;

export class LantianError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LantianError';
    this.code = code;
    this.context = options.context ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, context: this.context };
  }
}

export function isLantianError(e: unknown, code?: ErrorCode): e is LantianError {
  return e instanceof LantianError && (code === undefined || e.code === code);
}

export const isTimeout = (e: unknown): e is LantianError => isLantianError(e, 'TRANSPORT_TIMEOUT');
