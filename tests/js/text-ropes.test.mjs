// A provider's long streamed answer is a rope of the blocks its accumulator joined
// (js/providers/text-ropes.ts): the engine host encodes it block by block and the run's part log
// keeps views of it, so V8 never has to copy it flat at the end of the call. What the engine gets
// must still be the answer byte for byte, whatever characters the blocks cut between.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createOpenAI, run, L } from '../../dist/node.js';
import { TextAccumulator } from '../../dist/providers/text-accumulator.js';
import { ropeBlocks } from '../../dist/providers/text-ropes.js';

const accumulated = (pieces) => {
  const accumulator = new TextAccumulator();
  for (const piece of pieces) accumulator.append(piece);
  return accumulator.text;
};

test('a long accumulated text is known as a rope of its blocks; a short one, or one cut inside a surrogate pair, is not', () => {
  const pieces = Array.from({ length: 4000 }, (_, i) => `piece ${i}, ünï 中 🎉 `); // ≈ 86,000 characters
  const text = accumulated(pieces);
  assert.equal(text, pieces.join(''));
  const blocks = ropeBlocks(text);
  assert.equal(blocks?.length, 4, 'blocks of 1,024 pieces');
  assert.equal(blocks.join(''), text);

  assert.equal(ropeBlocks(accumulated(pieces.slice(0, 2500))), undefined, 'under 64 Ki characters: not worth it');

  const cut = [...pieces];
  cut[1023] = `${cut[1023]}\ud83d`; // the last piece of the first block ends in half an emoji…
  cut[1024] = `\ude00${cut[1024]}`; // …which the next block completes
  const whole = accumulated(cut);
  assert.equal(whole, cut.join(''));
  assert.equal(ropeBlocks(whole), undefined, 'encoded block by block, the pair would become two U+FFFD');
});

/** An OpenAI model streaming `deltas` as Chat Completions chunks, 200 per chunk of the body. */
function streamingModel(deltas) {
  const encoder = new TextEncoder();
  const event = (delta, finish = null) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const fetch = async () => {
    let i = 0;
    const body = new ReadableStream({
      pull(controller) {
        if (i >= deltas.length) {
          controller.enqueue(encoder.encode(event({}, 'stop') + 'data: [DONE]\n\n'));
          return controller.close();
        }
        let slab = '';
        for (const end = i + 200; i < end && i < deltas.length; i++) slab += event({ content: deltas[i] });
        controller.enqueue(encoder.encode(slab));
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
  return createOpenAI({ apiKey: 'test', fetch })('gpt-4o');
}

/**
 * A JSON answer of about 190 KB in 4,002 deltas (one list item each), with accents, CJK, emoji and
 * escapes; with `cutPairs`, an emoji inside a string is split between the last delta of each of the
 * accumulator's blocks (1,024 deltas) and the first of the next.
 */
function jsonAnswer(cutPairs) {
  const deltas = ['{"items":['];
  for (let i = 0; i < 4000; i++) deltas.push(`${JSON.stringify(`item ${i}: ünï 中文 🎉 "quoted" \\ end`)}${i < 3999 ? ',' : ''}`);
  deltas.push(']}');
  if (cutPairs) {
    for (let i = 1023; i + 1 < deltas.length - 2; i += 1024) {
      deltas[i] = deltas[i].replace(/ end",$/, ' \ud83d');
      deltas[i + 1] = `\ude00 end",${deltas[i + 1]}`;
    }
  }
  return { deltas, text: deltas.join('') };
}

for (const cutPairs of [false, true]) {
  test(`the engine parses a long streamed JSON answer exactly as streamed${cutPairs ? ' (emoji cut at the blocks\' ends)' : ''}`, async () => {
    const { deltas, text } = jsonAnswer(cutPairs);
    assert.ok(text.length > 64 * 1024 && deltas.length > 2048);
    const schema = { type: 'object', properties: { items: { type: 'array', items: { type: 'string' } } }, required: ['items'] };
    const handle = run(function* () {
      yield* L.user`List them.`;
      return (yield* L.reply(schema)).value; // parsed by the engine from the bytes it was given
    }, { models: { default: streamingModel(deltas) } });
    assert.deepEqual(await handle, JSON.parse(text));
  });
}
