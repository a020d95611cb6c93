import { z } from 'zod';
import type { FieldProblem } from '../../services/catalogue.js';
import { t, type MessageKey } from '../../i18n/index.js';

/** The kinds of problem the admin API answers with (RFC 9457): each a URN and a title in the catalogue. */
export const PROBLEM_KINDS = {
  'malformed-body': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'invalid-request': 422,
  'server-error': 500,
} as const;

export type ProblemKind = keyof typeof PROBLEM_KINDS;

export const problemSchema = z
  .object({
    type: z.string().describe('urn:iam-istruzione:problem:<kind>'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional().describe('every field refused, by its path in the request'),
  })
  .meta({ id: 'Problem' });

export type Problem = z.output<typeof problemSchema>;

/** An answer of the API: a status and a JSON body (a problem when the status is 4xx or 5xx). */
export interface Answer {
  status: number;
  body?: unknown;
}

export function problem(kind: ProblemKind, detail?: string, errors?: FieldProblem[]): Answer {
  const status = PROBLEM_KINDS[kind];
  const body: Problem = {
    type: `urn:iam-istruzione:problem:${kind}`,
    title: t(`admin.api.problem.${kind}` as MessageKey),
    status,
    ...(detail ? { detail } : {}),
    ...(errors?.length ? { errors } : {}),
  };
  return { status, body };
}
