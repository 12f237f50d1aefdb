/**
 * A request with nothing for the model to answer. The APIs refuse it with a 400 of their own
 * (OpenAI: no messages at all; Anthropic and Gemini: none beside the system prompt); checked before
 * the request, the error says what the run lacks, and nothing is sent.
 */
import { ValidationError } from '../errors.js';

/** Throws unless the request has `count` > 0 messages the API counts (`besideSystem`: Anthropic's, Gemini's rule). */
export function checkSomethingToAnswer(provider: string, count: number, besideSystem: boolean): void {
  if (count > 0) return;
  throw new ValidationError(
    `${provider}: the request has no message${besideSystem ? ' beside the system prompt' : ''} for the model to answer; add a user message first (ctx.$\`…\` in a prompt run, L.user\`…\` in an agent)`,
  );
}
