import { bodyParser } from '@koa/bodyparser';

/** Form bodies for our own routes only (a parser in front of the provider breaks its endpoints). */
export const formBody = () => bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' });
