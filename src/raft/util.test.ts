import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeConfChange, encodeConfChangeV2 } from './confchange/index.js';
import { StateType } from './config.js';
import type { Ready } from './raw-node.js';
import { confState } from './test-network.js';
import { ConfChangeType, EntryType, MessageType, newMessage, type Entry } from './types.js';
import {
  describeEntries,
  describeEntry,
  describeHardState,
  describeMessage,
  describeReady,
  describeSnapshot,
  limitSize,
  quoteBytes,
} from './util.js';
import { entrySizeBytes } from './storage.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const e = (index: bigint, term: bigint, data = '', type: Entry['type'] = EntryType.Normal): Entry => ({
  index,
  term,
  type,
  data: bytes(data),
});

test('quoteBytes escapes like Go %q', () => {
  assert.equal(quoteBytes(bytes('hello')), '"hello"');
  assert.equal(quoteBytes(new Uint8Array([0x22, 0x5c, 0x0a, 0x00, 0xff])), '"\\"\\\\\\n\\x00\\xff"');
  assert.equal(quoteBytes(new Uint8Array(0)), '""');
});

test('describeEntry names the type and decodes conf changes', () => {
  assert.equal(describeEntry(e(4n, 2n, 'foo')), '2/4 EntryNormal "foo"');
  assert.equal(describeEntry(e(4n, 2n)), '2/4 EntryNormal ""');
  const v1: Entry = {
    index: 5n,
    term: 1n,
    type: EntryType.ConfChange,
    data: encodeConfChange({
      type: ConfChangeType.AddLearnerNode,
      nodeId: 3n,
      context: new Uint8Array(0),
      id: 0n,
    }),
  };
  assert.equal(describeEntry(v1), '1/5 EntryConfChange l3');
  const v2: Entry = {
    index: 6n,
    term: 1n,
    type: EntryType.ConfChangeV2,
    data: encodeConfChangeV2({
      transition: 0,
      changes: [
        { type: ConfChangeType.AddNode, nodeId: 2n },
        { type: ConfChangeType.RemoveNode, nodeId: 3n },
      ],
      context: new Uint8Array(0),
    }),
  };
  assert.equal(describeEntry(v2), '1/6 EntryConfChangeV2 v2 r3');
  assert.equal(describeEntry(e(7n, 1n, '', EntryType.ConfChangeV2)), '1/7 EntryConfChangeV2');
  assert.equal(
    describeEntry(e(8n, 1n, 'x'), (d) => `len=${d.length}`),
    '1/8 EntryNormal len=1',
  );
  assert.equal(describeEntries([e(1n, 1n), e(2n, 1n)]), '1/1 EntryNormal ""\n1/2 EntryNormal ""\n');
});

test('describeMessage shows hex ids, rejection hints, commit, entries and snapshots', () => {
  const app = newMessage({
    type: MessageType.MsgApp,
    from: 1n,
    to: 10n,
    term: 3n,
    logTerm: 2n,
    index: 5n,
    commit: 4n,
    entries: [e(6n, 3n, 'a'), e(7n, 3n, 'b')],
  });
  assert.equal(
    describeMessage(app),
    '1->a MsgApp Term:3 Log:2/5 Commit:4 Entries:[3/6 EntryNormal "a", 3/7 EntryNormal "b"]',
  );
  const rej = newMessage({
    type: MessageType.MsgAppResp,
    from: 2n,
    to: 1n,
    term: 3n,
    logTerm: 1n,
    index: 5n,
    reject: true,
    rejectHint: 3n,
  });
  assert.equal(describeMessage(rej), '2->1 MsgAppResp Term:3 Log:1/5 Rejected (Hint: 3)');
  const snap = newMessage({
    type: MessageType.MsgSnap,
    from: 1n,
    to: 2n,
    term: 1n,
    snapshot: {
      data: new Uint8Array(0),
      metadata: { index: 4n, term: 1n, confState: confState([1n, 2n], [3n]) },
    },
  });
  assert.equal(
    describeMessage(snap),
    '1->2 MsgSnap Term:1 Log:0/0 Snapshot: Index:4 Term:1 ConfState:Voters:[1 2] VotersOutgoing:[] Learners:[3] LearnersNext:[] AutoLeave:false',
  );
});

test('describeHardState leaves out an empty vote; describeSnapshot lists the ConfState', () => {
  assert.equal(describeHardState({ term: 2n, vote: 0n, commit: 5n }), 'Term:2 Commit:5');
  assert.equal(describeHardState({ term: 2n, vote: 3n, commit: 5n }), 'Term:2 Vote:3 Commit:5');
  assert.equal(
    describeSnapshot({
      data: new Uint8Array(0),
      metadata: { index: 1n, term: 1n, confState: confState([1n]) },
    }),
    'Index:1 Term:1 ConfState:Voters:[1] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false',
  );
});

test('describeReady prints the parts that are set, in etcd’s order', () => {
  const empty: Ready = { readStates: [], entries: [], committedEntries: [], messages: [], mustSync: false };
  assert.equal(describeReady(empty), '<empty Ready>');
  const rd: Ready = {
    softState: { lead: 1n, raftState: StateType.StateLeader },
    hardState: { term: 1n, vote: 1n, commit: 2n },
    readStates: [{ index: 2n, requestCtx: bytes('r') }],
    entries: [e(2n, 1n)],
    committedEntries: [e(2n, 1n)],
    messages: [newMessage({ type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 1n, commit: 2n })],
    mustSync: true,
  };
  assert.equal(
    describeReady(rd),
    [
      'Ready MustSync=true:',
      'Lead:1 State:StateLeader',
      'HardState Term:1 Vote:1 Commit:2',
      'ReadStates [{2 "r"}]',
      'Entries:',
      '1/2 EntryNormal ""',
      'CommittedEntries:',
      '1/2 EntryNormal ""',
      'Messages:',
      '1->2 MsgHeartbeat Term:1 Log:0/0 Commit:2',
      '',
    ].join('\n'),
  );
});

test('limitSize keeps at least one entry and stops before exceeding the limit', () => {
  const ents = [e(1n, 1n, 'aaaa'), e(2n, 1n, 'bb'), e(3n, 1n, 'c')];
  const s0 = entrySizeBytes(ents[0] as Entry);
  const s1 = entrySizeBytes(ents[1] as Entry);
  assert.equal(limitSize(ents, 0).length, 1);
  assert.equal(limitSize(ents, s0).length, 1);
  assert.equal(limitSize(ents, s0 + s1).length, 2);
  assert.equal(limitSize(ents, Number.MAX_SAFE_INTEGER).length, 3);
  assert.deepEqual(limitSize([], 0), []);
});
