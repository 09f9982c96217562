/**
 * Commands on `<root>/<gateway>/cmd/<name>` and their answers on `cmd/<name>/result` (the caller's
 * id echoed). A command is signed by the platform's Ed25519 key over its RFC 8785 encoding without
 * `sig`, and carries its time and a nonce, so a copy replayed later or elsewhere is refused.
 */
import { z } from 'zod';
import { CONTRACT_VERSION } from '../mqtt/contract.js';

/** Largest command payload taken; a bigger one is refused unread. */
export const MAX_COMMAND_BYTES = 16 * 1024;

export const commandSchema = z
  .object({
    v: z.literal(CONTRACT_VERSION),
    id: z.string().min(1).max(64).describe("The caller's id, echoed in the result."),
    ts: z.number().int().nonnegative().describe('When the platform signed it, UTC milliseconds.'),
    nonce: z
      .string()
      .regex(/^[A-Za-z0-9_-]{8,64}$/)
      .describe('Unique per command: a nonce seen before is a replay.'),
    args: z.record(z.string(), z.unknown()).default({}).describe('Arguments of the command.'),
    sig: z.string().describe('Base64 Ed25519 signature of the platform over the message without sig.'),
  })
  .strict()
  .describe('Topic cmd/<name>: a command from the platform.');
export type CommandMessage = z.infer<typeof commandSchema>;

export const REFUSALS = [
  'malformed',
  'oversized',
  'invalid',
  'bad_signature',
  'stale',
  'replayed',
  'unknown_command',
  'bad_arguments',
  'unavailable',
  'out_of_range',
  'unknown_device',
  'unknown_point',
  'not_writable',
  'invalid_config',
  'busy',
  'failed',
] as const;
export type Refusal = (typeof REFUSALS)[number];

export const resultSchema = z
  .object({
    v: z.literal(CONTRACT_VERSION),
    gateway: z.string().min(1),
    id: z.string().nullable().describe("The command's id; null when it could not be read."),
    name: z.string().describe('The command, from the topic.'),
    ts: z.number().int().nonnegative(),
    ok: z.boolean(),
    result: z.unknown().optional().describe('What the command returned, when ok.'),
    refusal: z
      .object({ reason: z.enum(REFUSALS), message: z.string() })
      .strict()
      .optional()
      .describe('Why the command was refused or failed, when not ok.'),
  })
  .strict()
  .describe('Topic cmd/<name>/result: the answer to a command.');
export type CommandResult = z.infer<typeof resultSchema>;
