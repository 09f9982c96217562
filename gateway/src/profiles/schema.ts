/**
 * The device-profile schema: one YAML file per device model, validated by this schema.
 * TypeScript types and device-profiles/schema.json are derived from it; nothing else
 * describes the format. Descriptions here are the documentation editors show.
 */
import { z } from 'zod';
import { FLAGS } from '../core/flags.js';
import { POINT_TYPES } from './point-types.js';

/** How far a profile's register map can be trusted, most trusted first. */
export const CONFIDENCE = ['vendor-manual', 'third-party-code', 'representative'] as const;
export type Confidence = (typeof CONFIDENCE)[number];

export { POINT_TYPES, TYPE_REGISTERS, type PointType } from './point-types.js';

const flag = z.enum(Object.keys(FLAGS) as [keyof typeof FLAGS, ...(keyof typeof FLAGS)[]]);

export const FunctionCode = z
  .union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)])
  .describe('Modbus read function: 1 coils, 2 discrete inputs, 3 holding registers, 4 input registers.');

export const WordOrder = z
  .enum(['high-first', 'low-first'])
  .describe('For values over several registers: high-first (ABCD, big-endian) or low-first (CDAB).');
export const ByteOrder = z
  .enum(['big', 'little'])
  .describe('Byte order inside each 16-bit register: big (AB, standard Modbus) or little (BA, as in BADC).');

const identifier = z.string().regex(/^[a-z][a-z0-9_]*$/, 'use snake_case: lower-case letters, digits and _');

export const Serial = z
  .object({
    baud: z
      .number()
      .int()
      .refine(
        (b) => [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200].includes(b),
        'not a standard baud rate',
      )
      .default(9600)
      .describe('Factory baud rate.'),
    dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
    parity: z.enum(['none', 'even', 'odd']).default('none'),
    stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
    unitId: z.number().int().min(1).max(247).default(1).describe('Factory unit id (slave address).'),
  })
  .strict();

export const Quirks = z
  .object({
    minGapMs: z
      .number()
      .min(0)
      .max(10_000)
      .default(0)
      .describe('Minimum silence in ms between the end of a reply and the next request to this device.'),
    maxReadRegisters: z
      .number()
      .int()
      .min(1)
      .max(125)
      .default(125)
      .describe('Largest register count the device accepts in one FC03/FC04 read (Modbus allows 125).'),
    maxReadBits: z
      .number()
      .int()
      .min(1)
      .max(2000)
      .default(2000)
      .describe('Largest bit count in one FC01/FC02 read (Modbus allows 2000).'),
    bootDelayMs: z
      .number()
      .min(0)
      .max(120_000)
      .default(0)
      .describe('Time in ms after power-on during which the device does not answer.'),
    answersOnUniversalId: z
      .number()
      .int()
      .min(0)
      .max(255)
      .optional()
      .describe('A second unit id the device also answers on (0xFF on CWT/Renke-style sensors).'),
    turnaroundMs: z
      .number()
      .min(0)
      .max(5_000)
      .default(10)
      .describe(
        'Typical time in ms the device takes between the end of a request and the start of its reply.',
      ),
    timeoutMs: z
      .number()
      .min(10)
      .max(30_000)
      .default(1000)
      .describe('Reply timeout in ms the gateway uses unless the site config overrides it.'),
  })
  .strict();

export const BitField = z
  .object({
    bit: z.number().int().min(0).max(15).describe('Lowest bit of the field, 0 = least significant.'),
    width: z.number().int().min(1).max(16).default(1).describe('Number of bits in the field.'),
  })
  .strict();

export const Point = z
  .object({
    name: z.string().min(1).describe('Human-readable name.'),
    function: FunctionCode.optional().describe('Read function; defaults to the profile default.'),
    address: z.number().int().min(0).max(65535).describe('Register or coil address, in the stated base.'),
    base: z
      .union([z.literal(0), z.literal(1)])
      .optional()
      .describe(
        '0 if address is the PDU address, 1 if it is a 1-based register number; defaults to the profile.',
      ),
    type: z.enum(POINT_TYPES),
    length: z
      .number()
      .int()
      .min(1)
      .max(125)
      .optional()
      .describe(
        'Registers of a string or bcd point. Strings hold 2 ASCII characters per register, the first in ' +
          'the high byte (after byteOrder), and end at the first NUL.',
      ),
    bits: BitField.optional().describe('For type bits: which bits of the register hold the value.'),
    bcdFormat: z
      .enum(['number', 'datetime'])
      .optional()
      .describe(
        'For type bcd: number (default) reads the packed digits as a decimal integer, high nibble first; ' +
          'datetime reads 3 registers as BCD YY MM DD hh mm ss and gives ISO text 20YY-MM-DDThh:mm:ss ' +
          'without a zone (device local time).',
      ),
    wordOrder: WordOrder.optional(),
    byteOrder: ByteOrder.optional(),
    scale: z.number().default(1).describe('value = raw * scale + offset.'),
    offset: z.number().default(0),
    unit: z.string().default('').describe('Canonical unit of the value after scale and offset.'),
    range: z
      .tuple([z.number(), z.number()])
      .optional()
      .describe('Measuring range [min, max]; above max is flagged T.'),
    hj212: z
      .string()
      .regex(/^[a-zA-Z][a-zA-Z0-9]{1,7}$/, 'HJ 212 factor codes look like a21026 or LA')
      .optional()
      .describe('HJ 212 factor code.'),
    access: z.enum(['r', 'rw', 'w']).default('r'),
    role: z
      .enum(['measurement', 'status', 'info', 'config'])
      .default('measurement')
      .describe(
        'measurement values are reported; status points drive flags; info and config are read on demand.',
      ),
    unverified: z
      .string()
      .min(1)
      .optional()
      .describe(
        'What about this point the sources do not confirm (address, scale, unit, order, meaning); ' +
          'absent means the sources state all of it.',
      ),
  })
  .strict();

export const StatusCondition = z
  .union([
    z.literal('nonzero').describe('The value is not 0.'),
    z.literal('zero').describe('The value is 0.'),
    z.object({ equals: z.number() }).strict().describe('The value equals this number.'),
    z.object({ notEquals: z.number() }).strict().describe('The value differs from this number.'),
    z
      .object({ bitSet: z.number().int().min(0).max(63) })
      .strict()
      .describe('Bit n (0 = least significant) of the value is 1.'),
    z
      .object({ anyBits: z.number().int().min(1) })
      .strict()
      .describe('The value AND this mask is not 0 (e.g. 0x80).'),
  ])
  .describe(
    "Tested on the source point's decoded value (after scale and offset) truncated toward zero to an " +
      'integer, so a status sent as a float (SDL SCS-900CPM) works like an integer bit mask. ' +
      'A source that could not be read fires no condition.',
  );

export const StatusMapping = z
  .object({
    source: identifier.describe('Key of the status point this rule reads.'),
    when: StatusCondition,
    flag: flag.describe('HJ 212 flag given to the points while the condition holds.'),
    points: z
      .array(identifier)
      .optional()
      .describe('Measurement points the flag applies to; default: every measurement point.'),
    description: z.string().optional(),
  })
  .strict()
  .describe(
    'Every rule whose condition holds gives its flag to its points; when several apply to one point ' +
      'the most serious wins (B, D, F, M, C, S, T, N as in core/flags.ts).',
  );

export const Identification = z
  .object({
    vendorName: z.string().optional().describe('FC43/14 object 0x00 as the device reports it.'),
    productCode: z.string().optional().describe('FC43/14 object 0x01 as the device reports it.'),
    probe: z
      .object({
        function: FunctionCode,
        address: z.number().int().min(0).max(65535).describe('PDU address (0-based).'),
        count: z.number().int().min(1).max(125),
        expect: z
          .array(z.number().int().min(0).max(65535).nullable())
          .optional()
          .describe('Expected words; null matches anything.'),
      })
      .strict()
      .optional()
      .describe('A read that succeeds on this model and tells it apart from others.'),
  })
  .strict();

export const UnreadableRange = z
  .object({
    function: FunctionCode,
    start: z.number().int().min(0).max(65535).describe('PDU address (0-based), inclusive.'),
    end: z.number().int().min(0).max(65535).describe('PDU address (0-based), inclusive.'),
    reason: z.string().optional(),
  })
  .strict();

export const Example = z
  .object({
    name: z.string(),
    origin: z
      .enum(['published', 'constructed'])
      .optional()
      .describe(
        'published: the words (and values) are copied from a source (a manual example, a captured ' +
          'frame, a public driver test or simulator), named in citation; constructed: written for ' +
          'this profile from the register map, no source shows them.',
      ),
    citation: z
      .string()
      .min(1)
      .optional()
      .describe('For a published example: where the words come from (source, table or page, test name).'),
    registers: z
      .array(
        z
          .object({
            function: FunctionCode,
            address: z.number().int().min(0).max(65535).describe('PDU address (0-based) of the first word.'),
            words: z
              .array(z.number().int().min(0).max(65535))
              .min(1)
              .describe('Register words as on the wire; for FC01/02 one entry (0 or 1) per bit.'),
          })
          .strict(),
      )
      .min(1),
    values: z
      .record(z.string(), z.union([z.number(), z.string()]))
      .describe(
        'Point key -> decoded value (after scale and offset). Numbers match within 1e-6 relative ' +
          '(float32 precision and decimal scales); strings match exactly.',
      ),
    flags: z
      .record(z.string(), flag)
      .optional()
      .describe('Measurement point key -> flag the status mappings give for these registers (N: none).'),
  })
  .strict();

const commit = z.string().regex(/^[0-9a-f]{40}$/, 'a full 40-hex commit id');

/** Where a register map comes from, in a form anyone can follow without this repository. */
export const Source = z
  .union([
    z
      .object({
        repository: z
          .string()
          .regex(/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/, 'owner/name of a public GitHub repository')
          .describe('Public GitHub repository, owner/name.'),
        path: z.string().min(1).describe('File inside the repository.'),
        commit: commit.describe('The commit the file was read at.'),
        note: z.string().optional().describe('What this file gives (which registers, which facts).'),
      })
      .strict(),
    z
      .object({
        document: z.string().min(1).describe('Title of the manual or protocol document as published.'),
        edition: z.string().min(1).describe('Part number, revision, date or version of that document.'),
        locator: z.string().min(1).describe('Table, section or page that holds the map.'),
        url: z.string().url().optional().describe('Where a copy can be read, if public.'),
        note: z.string().optional(),
      })
      .strict(),
    z
      .object({
        url: z.string().url().describe('A public web page, e.g. a vendor protocol page.'),
        title: z.string().min(1),
        note: z.string().optional(),
      })
      .strict(),
    z.string().min(1).describe('Free text; test fixtures only, library profiles use one of the forms above.'),
  ])
  .describe('A repository file at a commit, a document with edition and locator, or a web page.');
export type SourceSpec = z.output<typeof Source>;

/** The shape a profile file (or template) may have before templates are merged. */
export const ProfileFile = z
  .object({
    $schema: z.string().optional(),
    id: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9.-]*$/,
        'use vendor.model in lower case, e.g. sdl.scs-900uv',
      )
      .describe('Unique profile id, vendor.model.'),
    use: z
      .array(z.string())
      .optional()
      .describe('Templates (from device-profiles/templates) merged under this file.'),
    vendor: z.string().min(1),
    model: z.string().min(1),
    description: z.string().optional(),
    category: z.enum(['cems', 'dust', 'weather', 'vocs', 'ambient', 'io', 'other']).default('other'),
    sources: z.array(Source).min(1).describe('Where the register map comes from.'),
    confidence: z
      .enum(CONFIDENCE)
      .optional()
      .describe(
        "How far the register map can be trusted: vendor-manual (taken from the vendor's own manual " +
          'or protocol document), third-party-code (taken from a public driver, integration or ' +
          'configuration written by someone else), representative (no public map: a plausible layout ' +
          'that must be checked against the device before use).',
      ),
    identification: Identification.optional(),
    serial: Serial.optional(),
    quirks: Quirks.optional(),
    addressBase: z
      .union([z.literal(0), z.literal(1)])
      .describe(
        '0: addresses are PDU addresses; 1: addresses are 1-based register numbers. Stated, never guessed.',
      ),
    defaults: z
      .object({
        function: FunctionCode.default(3),
        wordOrder: WordOrder.default('high-first'),
        byteOrder: ByteOrder.default('big'),
      })
      .strict()
      .optional(),
    points: z.record(identifier, Point),
    status: z.array(StatusMapping).optional(),
    unreadable: z.array(UnreadableRange).optional(),
    examples: z.array(Example).optional(),
  })
  .strict();

export type ProfileFile = z.input<typeof ProfileFile>;
export type PointSpec = z.output<typeof Point>;
export type StatusMappingSpec = z.output<typeof StatusMapping>;
export type ExampleSpec = z.output<typeof Example>;

/**
 * A loaded profile: templates merged, defaults applied, every point resolved to a 0-based PDU
 * address with explicit function, word and byte order. This is what the rest of the gateway
 * and the simulator consume.
 */
export interface ResolvedPoint extends Omit<PointSpec, 'function' | 'base' | 'wordOrder' | 'byteOrder'> {
  key: string;
  function: 1 | 2 | 3 | 4;
  /** 0-based PDU address. */
  pdu: number;
  /** Registers (or, for FC01/02, bits) this point spans. */
  count: number;
  wordOrder: z.output<typeof WordOrder>;
  byteOrder: z.output<typeof ByteOrder>;
}

export interface Profile {
  id: string;
  vendor: string;
  model: string;
  description?: string;
  category: z.output<typeof ProfileFile>['category'];
  sources: SourceSpec[];
  confidence?: z.output<typeof ProfileFile>['confidence'];
  identification?: z.output<typeof Identification>;
  serial: z.output<typeof Serial>;
  quirks: z.output<typeof Quirks>;
  points: ResolvedPoint[];
  status: StatusMappingSpec[];
  unreadable: z.output<typeof UnreadableRange>[];
  examples: ExampleSpec[];
  /** File the profile was loaded from, for error messages. */
  file: string;
}
