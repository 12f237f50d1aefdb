// A streamed OpenAI Responses answer written from the API reference's documented event sequence (no
// recording of the Responses API is in the fixtures): tests/js/responses.test.mjs and the UI round
// trip of tests/js/ui-provider-signatures.test.mjs serve it over loopback.

export const RESP_ID = 'resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b';
export const MODEL = 'gpt-4.1-2025-04-14';

/**
 * Writes the documented event sequence of one streamed response. `items` are output items:
 * `{type:'message', text, chunks}`, `{type:'function_call', callId, name, args, chunks}`,
 * `{type:'reasoning', summaries: [[...chunks]], encrypted}`; `end` is the terminal event.
 */
export function responsesStream(items, { usage, end = 'response.completed', status = 'completed', incomplete = null, cut } = {}) {
  let seq = 0;
  const out = [];
  const ev = (type, fields) => out.push(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields })}\n\n`);
  const base = { id: RESP_ID, object: 'response', created_at: 1741476542, model: MODEL, store: false, previous_response_id: null, error: null, incomplete_details: null };
  ev('response.created', { response: { ...base, status: 'in_progress', output: [], usage: null } });
  ev('response.in_progress', { response: { ...base, status: 'in_progress', output: [], usage: null } });
  const done = [];
  items.forEach((it, output_index) => {
    if (cut !== undefined && output_index >= cut) return;
    if (it.type === 'message') {
      const id = `msg_${output_index}67ccd2bf17f0819081ff3bb2cf6508e6`;
      ev('response.output_item.added', { output_index, item: { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] } });
      ev('response.content_part.added', { item_id: id, output_index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      for (const delta of it.chunks) ev('response.output_text.delta', { item_id: id, output_index, content_index: 0, delta });
      const text = it.chunks.join('');
      ev('response.output_text.done', { item_id: id, output_index, content_index: 0, text });
      const part = { type: 'output_text', text, annotations: [] };
      ev('response.content_part.done', { item_id: id, output_index, content_index: 0, part });
      const item = { id, type: 'message', status: 'completed', role: 'assistant', content: [part] };
      ev('response.output_item.done', { output_index, item });
      done.push(item);
    } else if (it.type === 'function_call') {
      const id = `fc_${output_index}12345xyz`;
      ev('response.output_item.added', { output_index, item: { type: 'function_call', id, call_id: it.callId, name: it.name, arguments: '', status: 'in_progress' } });
      for (const delta of it.chunks) ev('response.function_call_arguments.delta', { item_id: id, output_index, delta });
      const args = it.chunks.join('');
      ev('response.function_call_arguments.done', { item_id: id, output_index, arguments: args });
      const item = { type: 'function_call', id, call_id: it.callId, name: it.name, arguments: args, status: 'completed' };
      ev('response.output_item.done', { output_index, item });
      done.push(item);
    } else if (it.type === 'reasoning') {
      const id = `rs_${output_index}6876cf02e0bc8192b74af0fb64b715ff`;
      ev('response.output_item.added', { output_index, item: { id, type: 'reasoning', summary: [] } });
      const summary = [];
      it.summaries.forEach((chunks, summary_index) => {
        ev('response.reasoning_summary_part.added', { item_id: id, output_index, summary_index, part: { type: 'summary_text', text: '' } });
        for (const delta of chunks) ev('response.reasoning_summary_text.delta', { item_id: id, output_index, summary_index, delta });
        const text = chunks.join('');
        ev('response.reasoning_summary_text.done', { item_id: id, output_index, summary_index, text });
        ev('response.reasoning_summary_part.done', { item_id: id, output_index, summary_index, part: { type: 'summary_text', text } });
        summary.push({ type: 'summary_text', text });
      });
      const item = { id, type: 'reasoning', summary, ...(it.encrypted ? { encrypted_content: it.encrypted } : {}) };
      ev('response.output_item.done', { output_index, item });
      done.push(item);
    }
  });
  if (cut !== undefined) return out.join('');
  if (end === 'response.failed') {
    ev('response.failed', { response: { ...base, status: 'failed', output: done, error: { code: 'server_error', message: 'The model failed to generate a response.' }, usage: null } });
  } else {
    ev(end, { response: { ...base, status, incomplete_details: incomplete, output: done, usage } });
  }
  return out.join('');
}

