/** The JSON Schema of a profile file, for editors (yaml-language-server) and for checking schema.json. */
import { z } from 'zod';
import { ProfileFile } from './schema.js';

export function profileJsonSchema(): string {
  const schema = z.toJSONSchema(ProfileFile, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'Lantian device profile' }, null, 2)}\n`;
}
