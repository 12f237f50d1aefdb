// L.branch: one agent → its result, an array → a tuple, a record → a record.
import { L } from 'lmthing';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_ok?: T): void {}

function* a(): Generator<never, number, unknown> {
  return 1;
}
async function* b(): AsyncGenerator<never, string, unknown> {
  return 'b';
}

function* parent() {
  const one = yield* L.branch(a);
  expectType<Equal<typeof one, number>>();
  const tuple = yield* L.branch([a, b]);
  expectType<Equal<typeof tuple, [number, string]>>();
  const record = yield* L.branch({ x: a, y: b });
  expectType<Equal<typeof record, { x: number; y: string }>>();
  const caught = yield* L.catch(a);
  expectType<Equal<typeof caught.value, number | undefined>>();
  // @ts-expect-error -- a tuple has no third element
  tuple[2].toFixed();
}
void parent;
