// jsonpb as etcd 3.4's gateway uses it: the expected JSON texts and error words are etcd's answers to the
// same requests (curl against Debian's etcd 3.4.23).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonToMessage, messageToJson } from './gateway-codec.js';
import { decodeNext } from './gateway-json.js';
import { Compare, RangeRequest, TxnResponse, WatchResponse } from '../../generated/etcdserverpb.js';

const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

function read(type: string, body: string): Record<string, unknown> {
  const step = decodeNext(Buffer.from(body), 0, true);
  assert.ok('node' in step);
  return jsonToMessage(type, step.node);
}

function readError(type: string, body: string): string {
  try {
    read(type, body);
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}

void test('requests: proto and camelCase names, quoted and bare integers, enums by name or number', () => {
  const r = read(
    'etcdserverpb.RangeRequest',
    '{"key":"Zm9v","rangeEnd":"AA==","limit":"2","revision":3,"sort_order":"DESCEND","sortTarget":2,"bogus":1}',
  );
  assert.deepEqual(
    r,
    RangeRequest.create({
      key: b('foo'),
      rangeEnd: b('\0'),
      limit: 2n,
      revision: 3n,
      sortOrder: 2,
      sortTarget: 2,
    }),
  );
  // With both names present the camelCase one wins.
  const both = read('etcdserverpb.RangeRequest', '{"sortOrder":"DESCEND","sort_order":"ASCEND"}');
  assert.equal(both['sortOrder'], 2);
  // null leaves a field at its default; an empty or null body is the empty message.
  assert.deepEqual(read('etcdserverpb.RangeRequest', '{"key":null,"limit":null}'), RangeRequest.create());
  assert.deepEqual(read('etcdserverpb.RangeRequest', 'null'), RangeRequest.create());
  // encoding/json fills bytes from an array of numbers too.
  assert.deepEqual(read('etcdserverpb.RangeRequest', '{"key":[102,111,111]}')['key'], b('foo'));
});

void test('requests: oneof members, nested messages and repeated fields', () => {
  const t = read(
    'etcdserverpb.TxnRequest',
    '{"compare":[{"key":"Zm9v","target":"VALUE","value":""},{"key":"YQ==","version":"0","mod_revision":"5"}],' +
      '"success":[{"request_put":{"key":"YQ==","value":"Yg=="}},{"requestRange":{}}],"failure":[{"request_put":null}]}',
  );
  const compare = t['compare'] as Compare[];
  // A set oneof member is present even at its default value; a later member replaces an earlier one.
  assert.deepEqual(compare[0], Compare.create({ key: b('foo'), target: 3, value: new Uint8Array(0) }));
  assert.equal(compare[1]!.version, undefined);
  assert.equal(compare[1]!.modRevision, 5n);
  const success = t['success'] as { requestPut?: unknown; requestRange?: unknown }[];
  assert.ok(success[0]!.requestPut !== undefined);
  assert.deepEqual(success[1]!.requestRange, RangeRequest.create());
  // A null message member leaves the oneof empty.
  const failure = t['failure'] as { requestPut?: unknown }[];
  assert.equal(failure[0]!.requestPut, undefined);
  const w = read('etcdserverpb.WatchRequest', '{"create_request":{"key":"YQ==","filters":["NODELETE",0]}}');
  assert.deepEqual((w['createRequest'] as { filters: number[] }).filters, [1, 0]);
});

void test("request errors are encoding/json's and jsonpb's words", () => {
  const R = 'etcdserverpb.RangeRequest';
  const cases: [string, string][] = [
    ['{"key":"Zm9v","limit":"x"}', "invalid character 'x' looking for beginning of value"],
    ['{"limit":1.5}', 'json: cannot unmarshal number 1.5 into Go value of type int64'],
    ['{"limit":"1.5"}', 'json: cannot unmarshal number 1.5 into Go value of type int64'],
    ['{"limit":""}', 'unexpected end of JSON input'],
    ['{"limit":"1 2"}', "invalid character '2' after top-level value"],
    ['{"limit":true}', 'json: cannot unmarshal bool into Go value of type int64'],
    ['{"limit":{}}', 'json: cannot unmarshal object into Go value of type int64'],
    ['{"limit":[]}', 'json: cannot unmarshal array into Go value of type int64'],
    [
      '{"limit":99999999999999999999}',
      'json: cannot unmarshal number 99999999999999999999 into Go value of type int64',
    ],
    ['{"limit":1e3}', 'json: cannot unmarshal number 1e3 into Go value of type int64'],
    ['{"serializable":"true"}', 'json: cannot unmarshal string into Go value of type bool'],
    ['{"serializable":1}', 'json: cannot unmarshal number into Go value of type bool'],
    ['{"key":"Zm9"}', 'illegal base64 data at input byte 0'],
    ['{"key":5}', 'json: cannot unmarshal number into Go value of type []uint8'],
    ['{"key":[102,300]}', 'json: cannot unmarshal number 300 into Go value of type uint8'],
    ['{"key":{}}', 'json: cannot unmarshal object into Go value of type []uint8'],
    ['{"sort_order":"1"}', 'unknown value "1" for enum etcdserverpb.RangeRequest_SortOrder'],
    [
      '{"sort_order":"N\\u004fPE"}',
      'unknown value "N\\\\u004fPE" for enum etcdserverpb.RangeRequest_SortOrder',
    ],
    [
      '{"sort_order":true}',
      'json: cannot unmarshal bool into Go value of type etcdserverpb.RangeRequest_SortOrder',
    ],
    ['123', 'json: cannot unmarshal number into Go value of type map[string]json.RawMessage'],
    ['"abc"', 'json: cannot unmarshal string into Go value of type map[string]json.RawMessage'],
    ['[1]', 'json: cannot unmarshal array into Go value of type map[string]json.RawMessage'],
  ];
  for (const [body, want] of cases) assert.equal(readError(R, body), want, body);
  assert.equal(
    readError('etcdserverpb.TxnRequest', '{"compare":{}}'),
    'json: cannot unmarshal object into Go value of type []json.RawMessage',
  );
  assert.equal(
    readError('etcdserverpb.MemberAddRequest', '{"peerURLs":"x"}'),
    'json: cannot unmarshal string into Go value of type []json.RawMessage',
  );
  assert.equal(
    readError('etcdserverpb.MemberAddRequest', '{"peerURLs":[1]}'),
    'json: cannot unmarshal number into Go value of type string',
  );
  assert.equal(
    readError('etcdserverpb.AlarmRequest', '{"memberID":-1}'),
    'json: cannot unmarshal number -1 into Go value of type uint64',
  );
});

void test('responses: proto names, int64 as strings, bytes as base64, defaults left out, set messages kept', () => {
  const t = TxnResponse.create({
    header: { clusterId: 15118495548433857066n, memberId: 1n, revision: 5n, raftTerm: 2n },
    succeeded: true,
    responses: [
      {
        responseRange: {
          header: { clusterId: 0n, memberId: 0n, revision: 4n, raftTerm: 0n },
          kvs: [
            {
              key: b('foo'),
              createRevision: 2n,
              modRevision: 4n,
              version: 3n,
              value: new Uint8Array(0),
              lease: 0n,
            },
          ],
          more: false,
          count: 1n,
        },
      },
      {
        responseTxn: TxnResponse.create({
          header: { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n },
          succeeded: true,
        }),
      },
    ],
  });
  assert.equal(
    messageToJson('etcdserverpb.TxnResponse', t),
    '{"header":{"cluster_id":"15118495548433857066","member_id":"1","revision":"5","raft_term":"2"},"succeeded":true,' +
      '"responses":[{"response_range":{"header":{"revision":"4"},"kvs":[{"key":"Zm9v","create_revision":"2",' +
      '"mod_revision":"4","version":"3"}],"count":"1"}},{"response_txn":{"header":{},"succeeded":true}}]}',
  );
});

void test('responses: enums by name, unknown enum values as numbers, negative int64, uint32 as a number, strings Go-escaped', () => {
  const w = WatchResponse.create({
    watchId: -1n,
    created: true,
    canceled: true,
    cancelReason: 'a <b> & "c"',
    events: [
      {
        type: 1,
        kv: {
          key: b('k'),
          createRevision: 0n,
          modRevision: 10n,
          version: 0n,
          value: new Uint8Array(0),
          lease: 0n,
        },
      },
      { type: 0 },
      { type: 7 },
    ],
  });
  assert.equal(
    messageToJson('etcdserverpb.WatchResponse', w),
    '{"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"a \\u003cb\\u003e \\u0026 \\"c\\"",' +
      '"events":[{"type":"DELETE","kv":{"key":"aw==","mod_revision":"10"}},{},{"type":7}]}',
  );
  assert.equal(
    messageToJson('etcdserverpb.HashResponse', { hash: 3936038833, header: undefined }),
    '{"hash":3936038833}',
  );
  assert.equal(messageToJson('etcdserverpb.AlarmResponse', { alarms: [] }), '{}');
});
