// The gateway's message tables restate proto/; this test parses proto/ with protobufjs (an independent
// parser) and fails when a message, field, type, order, oneof or enum value differs, or when a message
// reachable from a service method is missing from the tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ENUMS, MESSAGES, enumSpec, messageSpec } from './gateway-schema.js';

interface PbNode {
  name: string;
  parent: PbNode | null;
  fullName: string;
}
interface PbField {
  name: string;
  type: string;
  repeated: boolean;
  partOf: { name: string } | null;
  resolvedType: PbNode | null;
}
interface PbType extends PbNode {
  fieldsArray: PbField[];
}
interface PbEnum extends PbNode {
  values: Record<string, number>;
}
interface PbMethod {
  resolvedRequestType: PbType;
  resolvedResponseType: PbType;
}
interface PbService extends PbNode {
  methodsArray: PbMethod[];
}
interface PbRoot extends PbNode {
  resolvePath: (origin: string, target: string) => string;
  loadSync(files: string[], opts: Record<string, unknown>): PbRoot;
  resolveAll(): PbRoot;
  lookupService(name: string): PbService;
}
interface Pb {
  Root: new () => PbRoot;
  Type: new (...a: never[]) => PbType;
  Enum: new (...a: never[]) => PbEnum;
}

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const pb = createRequire(import.meta.url)('protobufjs') as Pb;
const root = new pb.Root();
root.resolvePath = (_o, t) => join(repo, 'proto', t);
root.loadSync(['etcdserverpb/rpc.proto', 'v3lockpb/v3lock.proto', 'v3electionpb/v3election.proto'], {
  keepCase: true,
});
root.resolveAll();

/** Go's name of a message or enum: package, then nested names joined by "_". */
function goName(t: PbNode): string {
  const parts: string[] = [];
  let x: PbNode | null = t;
  while (x !== null && (x instanceof pb.Type || x instanceof pb.Enum)) {
    parts.unshift(x.name);
    x = x.parent;
  }
  return `${x!.fullName.slice(1)}.${parts.join('_')}`;
}

const SERVICES = [
  'etcdserverpb.KV',
  'etcdserverpb.Watch',
  'etcdserverpb.Lease',
  'etcdserverpb.Cluster',
  'etcdserverpb.Maintenance',
  'etcdserverpb.Auth',
  'v3lockpb.Lock',
  'v3electionpb.Election',
];

function fromProto(): { messages: Map<string, string>; enums: Map<string, string> } {
  const messages = new Map<string, string>();
  const enums = new Map<string, string>();
  const visitEnum = (e: PbEnum): string => {
    const values = Object.entries(e.values).sort((a, b) => a[1] - b[1]);
    values.forEach(([name, v], i) => assert.equal(v, i, `${goName(e)}.${name} is numbered ${v}, not ${i}`));
    enums.set(goName(e), values.map(([k]) => k).join(' '));
    return goName(e);
  };
  const visit = (t: PbType): void => {
    if (messages.has(goName(t))) return;
    messages.set(goName(t), '');
    const fields = t.fieldsArray.map((f) => {
      const rt = f.resolvedType;
      let ty = f.type;
      if (rt instanceof pb.Enum) ty = `#${visitEnum(rt)}`;
      else if (rt instanceof pb.Type) {
        visit(rt);
        ty = `*${goName(rt)}`;
      }
      return `${f.name}:${ty}${f.repeated ? '[]' : ''}${f.partOf ? `|${f.partOf.name}` : ''}`;
    });
    messages.set(goName(t), fields.join(' '));
  };
  for (const s of SERVICES) {
    for (const m of root.lookupService(s).methodsArray) {
      visit(m.resolvedRequestType);
      visit(m.resolvedResponseType);
    }
  }
  return { messages, enums };
}

void test('the gateway tables list exactly the messages and enums of the gateway services, as proto/ does', () => {
  const { messages, enums } = fromProto();
  assert.deepEqual(
    Object.fromEntries([...Object.entries(MESSAGES)].sort()),
    Object.fromEntries([...messages].sort()),
  );
  assert.deepEqual(
    Object.fromEntries([...Object.entries(ENUMS)].sort()),
    Object.fromEntries([...enums].sort()),
  );
});

void test('a table entry parses into fields with proto name, camelCase name, kind, type and oneof', () => {
  const compare = messageSpec('etcdserverpb.Compare');
  assert.deepEqual(
    compare.fields.map((f) => [f.name, f.json, f.kind, f.type, f.repeated, f.oneof]),
    [
      ['result', 'result', 'enum', 'etcdserverpb.Compare_CompareResult', false, undefined],
      ['target', 'target', 'enum', 'etcdserverpb.Compare_CompareTarget', false, undefined],
      ['key', 'key', 'bytes', 'bytes', false, undefined],
      ['version', 'version', 'int64', 'int64', false, 'target_union'],
      ['create_revision', 'createRevision', 'int64', 'int64', false, 'target_union'],
      ['mod_revision', 'modRevision', 'int64', 'int64', false, 'target_union'],
      ['value', 'value', 'bytes', 'bytes', false, 'target_union'],
      ['lease', 'lease', 'int64', 'int64', false, 'target_union'],
      ['range_end', 'rangeEnd', 'bytes', 'bytes', false, undefined],
    ],
  );
  const member = messageSpec('etcdserverpb.Member');
  assert.deepEqual(
    member.fields.map((f) => [f.name, f.json, f.repeated]),
    [
      ['ID', 'ID', false],
      ['name', 'name', false],
      ['peerURLs', 'peerURLs', true],
      ['clientURLs', 'clientURLs', true],
      ['isLearner', 'isLearner', false],
    ],
  );
  assert.equal(messageSpec('etcdserverpb.TxnResponse').fields[2]!.type, 'etcdserverpb.ResponseOp');
  assert.equal(enumSpec('mvccpb.Event_EventType').byName.get('DELETE'), 1);
  assert.throws(() => messageSpec('etcdserverpb.Nope'), /no message etcdserverpb.Nope/);
});
