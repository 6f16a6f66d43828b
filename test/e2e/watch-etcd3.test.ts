// The `etcd3` npm client's watch builder against the server under test: key and prefix watchers,
// put/delete events with and without the previous value, filters, a start revision in the past,
// cancel, and resumption across a server restart (the client re-creates its watchers from the
// revision after the last it saw): every write is seen exactly once, in order.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3, type IKeyValue, type Watcher } from 'etcd3';
import { startServer, target, type ServerHandle } from './harness.js';

interface Seen {
  type: 'put' | 'delete';
  key: string;
  value: string;
  mod: string;
  prev?: string;
}

/** Records a watcher's events; until() waits for a count, by content only. */
class Recorder {
  readonly seen: Seen[] = [];
  private waiters: (() => void)[] = [];
  constructor(w: Watcher) {
    const rec =
      (type: 'put' | 'delete') =>
      (kv: IKeyValue, prev?: IKeyValue | null): void => {
        const s: Seen = { type, key: kv.key.toString(), value: kv.value.toString(), mod: kv.mod_revision };
        if (prev) s.prev = prev.value.toString();
        this.seen.push(s);
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      };
    w.on('put', rec('put'));
    w.on('delete', rec('delete'));
  }
  async until(n: number, timeoutMs = 30_000): Promise<Seen[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.seen.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.seen.length} of ${n} events: ${JSON.stringify(this.seen)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.seen;
  }
}

void describe(`etcd3 npm client watch against ${target()}`, () => {
  let server: ServerHandle;
  let client: Etcd3;
  const rev = async () => BigInt((await client.get('rev-probe').exec()).header.revision);
  const open = new Set<Watcher>();
  const made = (w: Watcher): Watcher => {
    open.add(w);
    w.on('end', () => open.delete(w));
    return w;
  };

  before(async () => {
    server = await startServer(target());
    client = new Etcd3({ hosts: server.clientUrl });
  });
  after(async () => {
    // A watcher left open keeps reconnecting (and the process alive) after close().
    for (const w of open) await w.cancel();
    client?.close();
    await server?.stop();
  });

  void it('a key watcher sees puts and deletes of that key, with revisions', async () => {
    const w = made(await client.watch().key('wk').create());
    const rec = new Recorder(w);
    const r0 = await rev();
    await client.put('wk').value('1');
    await client.put('wk-other').value('x');
    await client.put('wk').value('2');
    await client.delete().key('wk');
    assert.deepStrictEqual(await rec.until(3), [
      { type: 'put', key: 'wk', value: '1', mod: String(r0 + 1n) },
      { type: 'put', key: 'wk', value: '2', mod: String(r0 + 3n) },
      { type: 'delete', key: 'wk', value: '', mod: String(r0 + 4n) },
    ]);
    await w.cancel();
  });

  void it('a prefix watcher with previous values and a filter', async () => {
    const all = new Recorder(made(await client.watch().prefix('wp/').withPreviousKV().create()));
    // etcd3's only('delete') sends the NOPUT filter (its ignore() is the same as only()).
    const deletesOnly = new Recorder(made(await client.watch().prefix('wp/').only('delete').create()));
    await client.put('wp/a').value('1');
    await client.put('wp/a').value('2');
    await client.put('wpx').value('outside');
    await client.delete().prefix('wp/');
    const got = await all.until(3);
    assert.deepStrictEqual(
      got.map((s) => [s.type, s.key, s.value, s.prev]),
      [
        ['put', 'wp/a', '1', undefined],
        ['put', 'wp/a', '2', '1'],
        ['delete', 'wp/a', '', '2'],
      ],
    );
    assert.deepStrictEqual(
      (await deletesOnly.until(1)).map((s) => [s.type, s.key]),
      [['delete', 'wp/a']],
    );
  });

  void it('a start revision in the past replays history before new events', async () => {
    const r0 = await rev();
    await client.put('wh').value('old1');
    await client.put('wh').value('old2');
    const w = made(
      await client
        .watch()
        .key('wh')
        .startRevision(String(r0 + 1n))
        .create(),
    );
    const rec = new Recorder(w);
    await client.put('wh').value('new');
    assert.deepStrictEqual(
      (await rec.until(3)).map((s) => [s.value, s.mod]),
      [
        ['old1', String(r0 + 1n)],
        ['old2', String(r0 + 2n)],
        ['new', String(r0 + 3n)],
      ],
    );
    await w.cancel();
  });

  void it('cancel ends the watcher; others on the same stream go on', async () => {
    const a = made(await client.watch().key('wc/a').create());
    const b = made(await client.watch().key('wc/b').create());
    const recB = new Recorder(b);
    let ended = false;
    a.on('end', () => (ended = true));
    await a.cancel();
    assert.equal(ended, true);
    await client.put('wc/b').value('still');
    assert.deepStrictEqual(
      (await recB.until(1)).map((s) => s.value),
      ['still'],
    );
    await b.cancel();
  });

  void it('after a server restart the watcher resumes: every write seen once, in order', async () => {
    const w = made(await client.watch().prefix('wr/').create());
    const rec = new Recorder(w);
    for (let i = 0; i < 5; i++) await client.put(`wr/${i}`).value(`before-${i}`);
    await rec.until(5);
    await server.restart();
    for (let i = 5; i < 10; i++) await client.put(`wr/${i}`).value(`after-${i}`);
    await client.put('wr/end').value('sentinel');
    // A replayed event would come before the sentinel, so the first 11 are the whole story.
    const seen = await rec.until(11);
    assert.deepStrictEqual(
      seen.map((s) => s.key),
      [...Array.from({ length: 10 }, (_, i) => `wr/${i}`), 'wr/end'],
    );
    const mods = seen.map((s) => BigInt(s.mod));
    for (let i = 1; i < mods.length; i++) assert.equal(mods[i], mods[i - 1]! + 1n, 'consecutive revisions');
    await w.cancel();
  });
});
