import type { Context } from 'koa';
import type { z } from 'zod';
import type { Answer } from './problems.js';

/** Who calls the admin API: an administrator in the console's session, or an admin client's token. */
export type ApiCaller =
  | { kind: 'admin'; accountId: string; username: string }
  | { kind: 'service'; clientId: string };

type Schema = z.ZodType;
type ObjectSchema = z.ZodObject;
type Parsed<S> = S extends Schema ? z.output<S> : undefined;

export interface OperationSpec<P extends ObjectSchema | undefined, Q extends ObjectSchema | undefined, B extends Schema | undefined> {
  id: string;
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI's form, below /admin/api: /services/{id} */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: { contentType: 'application/json' | 'text/csv'; schema: B; description?: string };
  responses: Record<number, { description: string; schema?: Schema }>;
  handle(input: { params: Parsed<P>; query: Parsed<Q>; body: Parsed<B>; caller: ApiCaller; ctx: Context }): Promise<Answer>;
}

/** One operation of the API: the router validates with its schemas, the OpenAPI document is made from them. */
export type Operation = OperationSpec<ObjectSchema | undefined, ObjectSchema | undefined, Schema | undefined>;

export const operation = <P extends ObjectSchema | undefined = undefined, Q extends ObjectSchema | undefined = undefined, B extends Schema | undefined = undefined>(
  spec: OperationSpec<P, Q, B>,
): Operation => spec as unknown as Operation;
