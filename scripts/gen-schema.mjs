// Writes docs/session.schema.json from the zod schemas in the built package, so the published
// JSON Schema can never drift from what the store validates.
import { writeFileSync, mkdirSync } from 'node:fs';
import { z } from 'zod';
import { CompactionSchema, HeaderSchema, MessageSchema, UpdateSchema } from '../dist/index.js';

const json = (schema) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
const document = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'sessionlog session file line',
  description:
    'One line of a sessionlog <id>.jsonl file. Line 1 is a header; later lines are entries (message, compaction, or any other type, kept verbatim) or session_update bookkeeping records. Generated from the zod schemas by scripts/gen-schema.mjs.',
  oneOf: [{ $ref: '#/$defs/header' }, { $ref: '#/$defs/message' }, { $ref: '#/$defs/compaction' }, { $ref: '#/$defs/update' }, { $ref: '#/$defs/other' }],
  $defs: {
    header: json(HeaderSchema),
    message: json(MessageSchema),
    compaction: json(CompactionSchema),
    update: json(UpdateSchema),
    other: {
      type: 'object',
      description: 'An entry of another type: kept and returned as it is.',
      required: ['type'],
      properties: { type: { type: 'string', not: { enum: ['session', 'session_update', 'message', 'compaction'] } }, id: { type: 'string' }, ts: { type: 'string' } },
      additionalProperties: true,
    },
  },
};
for (const def of Object.values(document.$defs)) delete def.$schema;
mkdirSync(new URL('../docs/', import.meta.url), { recursive: true });
writeFileSync(new URL('../docs/session.schema.json', import.meta.url), `${JSON.stringify(document, null, 2)}\n`);
