// The shape of every message the JSON gateway reads or writes, as etcd 3.4's gateway sees it through
// jsonpb: fields in declaration order (the order jsonpb writes them), each with its proto name (what
// OrigName output uses), its kind, and its oneof. src/generated carries codecs but no field metadata,
// so the tables below restate proto/ for the messages reachable from the gateway's methods;
// gateway-schema.test.ts parses proto/ and fails when they drift apart.
//
// Notation: one string per message, fields separated by spaces, each `name:type`, where type is a
// scalar (int64 uint64 int32 uint32 bool string bytes), `*pkg.Message` or `#pkg.Enum`, followed by
// `[]` when repeated and `|oneof` when the field is a member of that oneof. Enum values are listed
// from 0 upward (every etcd enum is numbered 0..n-1). Enum names are Go's (Parent_Enum), which is also
// how jsonpb names them in its errors.
import { assert } from '../../base/assert.js';

export type ScalarKind = 'int64' | 'uint64' | 'int32' | 'uint32' | 'bool' | 'string' | 'bytes';

export interface FieldSpec {
  /** The proto field name: the JSON key etcd's gateway writes, and one of the two it accepts. */
  readonly name: string;
  /** lowerCamelCase of name: the other accepted JSON key, and the property in src/generated. */
  readonly json: string;
  readonly kind: ScalarKind | 'enum' | 'message';
  /** Full name of the enum or message type. */
  readonly type: string;
  readonly repeated: boolean;
  readonly oneof: string | undefined;
}

export interface MessageSpec {
  readonly name: string;
  readonly fields: readonly FieldSpec[];
}

export interface EnumSpec {
  readonly name: string;
  readonly values: readonly string[];
  readonly byName: ReadonlyMap<string, number>;
}

export const ENUMS: Readonly<Record<string, string>> = {
  'authpb.Permission_Type': 'READ WRITE READWRITE',
  'etcdserverpb.AlarmRequest_AlarmAction': 'GET ACTIVATE DEACTIVATE',
  'etcdserverpb.AlarmType': 'NONE NOSPACE CORRUPT',
  'etcdserverpb.Compare_CompareResult': 'EQUAL GREATER LESS NOT_EQUAL',
  'etcdserverpb.Compare_CompareTarget': 'VERSION CREATE MOD VALUE LEASE',
  'etcdserverpb.RangeRequest_SortOrder': 'NONE ASCEND DESCEND',
  'etcdserverpb.RangeRequest_SortTarget': 'KEY VERSION CREATE MOD VALUE',
  'etcdserverpb.WatchCreateRequest_FilterType': 'NOPUT NODELETE',
  'mvccpb.Event_EventType': 'PUT DELETE',
};
export const MESSAGES: Readonly<Record<string, string>> = {
  'authpb.Permission': 'permType:#authpb.Permission_Type key:bytes range_end:bytes',
  'authpb.UserAddOptions': 'no_password:bool',
  'etcdserverpb.AlarmMember': 'memberID:uint64 alarm:#etcdserverpb.AlarmType',
  'etcdserverpb.AlarmRequest':
    'action:#etcdserverpb.AlarmRequest_AlarmAction memberID:uint64 alarm:#etcdserverpb.AlarmType',
  'etcdserverpb.AlarmResponse': 'header:*etcdserverpb.ResponseHeader alarms:*etcdserverpb.AlarmMember[]',
  'etcdserverpb.AuthDisableRequest': '',
  'etcdserverpb.AuthDisableResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.AuthEnableRequest': '',
  'etcdserverpb.AuthEnableResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.AuthRoleAddRequest': 'name:string',
  'etcdserverpb.AuthRoleAddResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.AuthRoleDeleteRequest': 'role:string',
  'etcdserverpb.AuthRoleDeleteResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.AuthRoleGetRequest': 'role:string',
  'etcdserverpb.AuthRoleGetResponse': 'header:*etcdserverpb.ResponseHeader perm:*authpb.Permission[]',
  'etcdserverpb.AuthRoleGrantPermissionRequest': 'name:string perm:*authpb.Permission',
  'etcdserverpb.AuthRoleGrantPermissionResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.AuthRoleListRequest': '',
  'etcdserverpb.AuthRoleListResponse': 'header:*etcdserverpb.ResponseHeader roles:string[]',
  'etcdserverpb.AuthRoleRevokePermissionRequest': 'role:string key:bytes range_end:bytes',
  'etcdserverpb.AuthRoleRevokePermissionResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.AuthUserAddRequest': 'name:string password:string options:*authpb.UserAddOptions',
  'etcdserverpb.AuthUserAddResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.AuthUserChangePasswordRequest': 'name:string password:string',
  'etcdserverpb.AuthUserChangePasswordResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.AuthUserDeleteRequest': 'name:string',
  'etcdserverpb.AuthUserDeleteResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.AuthUserGetRequest': 'name:string',
  'etcdserverpb.AuthUserGetResponse': 'header:*etcdserverpb.ResponseHeader roles:string[]',
  'etcdserverpb.AuthUserGrantRoleRequest': 'user:string role:string',
  'etcdserverpb.AuthUserGrantRoleResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.AuthUserListRequest': '',
  'etcdserverpb.AuthUserListResponse': 'header:*etcdserverpb.ResponseHeader users:string[]',
  'etcdserverpb.AuthUserRevokeRoleRequest': 'name:string role:string',
  'etcdserverpb.AuthUserRevokeRoleResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.AuthenticateRequest': 'name:string password:string',
  'etcdserverpb.AuthenticateResponse': 'header:*etcdserverpb.ResponseHeader token:string',
  'etcdserverpb.CompactionRequest': 'revision:int64 physical:bool',
  'etcdserverpb.CompactionResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.Compare':
    'result:#etcdserverpb.Compare_CompareResult target:#etcdserverpb.Compare_CompareTarget key:bytes version:int64|target_union create_revision:int64|target_union mod_revision:int64|target_union value:bytes|target_union lease:int64|target_union range_end:bytes',
  'etcdserverpb.DefragmentRequest': '',
  'etcdserverpb.DefragmentResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.DeleteRangeRequest': 'key:bytes range_end:bytes prev_kv:bool',
  'etcdserverpb.DeleteRangeResponse':
    'header:*etcdserverpb.ResponseHeader deleted:int64 prev_kvs:*mvccpb.KeyValue[]',
  'etcdserverpb.HashKVRequest': 'revision:int64',
  'etcdserverpb.HashKVResponse': 'header:*etcdserverpb.ResponseHeader hash:uint32 compact_revision:int64',
  'etcdserverpb.HashRequest': '',
  'etcdserverpb.HashResponse': 'header:*etcdserverpb.ResponseHeader hash:uint32',
  'etcdserverpb.LeaseGrantRequest': 'TTL:int64 ID:int64',
  'etcdserverpb.LeaseGrantResponse': 'header:*etcdserverpb.ResponseHeader ID:int64 TTL:int64 error:string',
  'etcdserverpb.LeaseKeepAliveRequest': 'ID:int64',
  'etcdserverpb.LeaseKeepAliveResponse': 'header:*etcdserverpb.ResponseHeader ID:int64 TTL:int64',
  'etcdserverpb.LeaseLeasesRequest': '',
  'etcdserverpb.LeaseLeasesResponse':
    'header:*etcdserverpb.ResponseHeader leases:*etcdserverpb.LeaseStatus[]',
  'etcdserverpb.LeaseRevokeRequest': 'ID:int64',
  'etcdserverpb.LeaseRevokeResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.LeaseStatus': 'ID:int64',
  'etcdserverpb.LeaseTimeToLiveRequest': 'ID:int64 keys:bool',
  'etcdserverpb.LeaseTimeToLiveResponse':
    'header:*etcdserverpb.ResponseHeader ID:int64 TTL:int64 grantedTTL:int64 keys:bytes[]',
  'etcdserverpb.Member': 'ID:uint64 name:string peerURLs:string[] clientURLs:string[] isLearner:bool',
  'etcdserverpb.MemberAddRequest': 'peerURLs:string[] isLearner:bool',
  'etcdserverpb.MemberAddResponse':
    'header:*etcdserverpb.ResponseHeader member:*etcdserverpb.Member members:*etcdserverpb.Member[]',
  'etcdserverpb.MemberListRequest': '',
  'etcdserverpb.MemberListResponse': 'header:*etcdserverpb.ResponseHeader members:*etcdserverpb.Member[]',
  'etcdserverpb.MemberPromoteRequest': 'ID:uint64',
  'etcdserverpb.MemberPromoteResponse': 'header:*etcdserverpb.ResponseHeader members:*etcdserverpb.Member[]',
  'etcdserverpb.MemberRemoveRequest': 'ID:uint64',
  'etcdserverpb.MemberRemoveResponse': 'header:*etcdserverpb.ResponseHeader members:*etcdserverpb.Member[]',
  'etcdserverpb.MemberUpdateRequest': 'ID:uint64 peerURLs:string[]',
  'etcdserverpb.MemberUpdateResponse': 'header:*etcdserverpb.ResponseHeader members:*etcdserverpb.Member[]',
  'etcdserverpb.MoveLeaderRequest': 'targetID:uint64',
  'etcdserverpb.MoveLeaderResponse': 'header:*etcdserverpb.ResponseHeader',
  'etcdserverpb.PutRequest':
    'key:bytes value:bytes lease:int64 prev_kv:bool ignore_value:bool ignore_lease:bool',
  'etcdserverpb.PutResponse': 'header:*etcdserverpb.ResponseHeader prev_kv:*mvccpb.KeyValue',
  'etcdserverpb.RangeRequest':
    'key:bytes range_end:bytes limit:int64 revision:int64 sort_order:#etcdserverpb.RangeRequest_SortOrder sort_target:#etcdserverpb.RangeRequest_SortTarget serializable:bool keys_only:bool count_only:bool min_mod_revision:int64 max_mod_revision:int64 min_create_revision:int64 max_create_revision:int64',
  'etcdserverpb.RangeResponse':
    'header:*etcdserverpb.ResponseHeader kvs:*mvccpb.KeyValue[] more:bool count:int64',
  'etcdserverpb.RequestOp':
    'request_range:*etcdserverpb.RangeRequest|request request_put:*etcdserverpb.PutRequest|request request_delete_range:*etcdserverpb.DeleteRangeRequest|request request_txn:*etcdserverpb.TxnRequest|request',
  'etcdserverpb.ResponseHeader': 'cluster_id:uint64 member_id:uint64 revision:int64 raft_term:uint64',
  'etcdserverpb.ResponseOp':
    'response_range:*etcdserverpb.RangeResponse|response response_put:*etcdserverpb.PutResponse|response response_delete_range:*etcdserverpb.DeleteRangeResponse|response response_txn:*etcdserverpb.TxnResponse|response',
  'etcdserverpb.SnapshotRequest': '',
  'etcdserverpb.SnapshotResponse': 'header:*etcdserverpb.ResponseHeader remaining_bytes:uint64 blob:bytes',
  'etcdserverpb.StatusRequest': '',
  'etcdserverpb.StatusResponse':
    'header:*etcdserverpb.ResponseHeader version:string dbSize:int64 leader:uint64 raftIndex:uint64 raftTerm:uint64 raftAppliedIndex:uint64 errors:string[] dbSizeInUse:int64 isLearner:bool',
  'etcdserverpb.TxnRequest':
    'compare:*etcdserverpb.Compare[] success:*etcdserverpb.RequestOp[] failure:*etcdserverpb.RequestOp[]',
  'etcdserverpb.TxnResponse':
    'header:*etcdserverpb.ResponseHeader succeeded:bool responses:*etcdserverpb.ResponseOp[]',
  'etcdserverpb.WatchCancelRequest': 'watch_id:int64',
  'etcdserverpb.WatchCreateRequest':
    'key:bytes range_end:bytes start_revision:int64 progress_notify:bool filters:#etcdserverpb.WatchCreateRequest_FilterType[] prev_kv:bool watch_id:int64 fragment:bool',
  'etcdserverpb.WatchProgressRequest': '',
  'etcdserverpb.WatchRequest':
    'create_request:*etcdserverpb.WatchCreateRequest|request_union cancel_request:*etcdserverpb.WatchCancelRequest|request_union progress_request:*etcdserverpb.WatchProgressRequest|request_union',
  'etcdserverpb.WatchResponse':
    'header:*etcdserverpb.ResponseHeader watch_id:int64 created:bool canceled:bool compact_revision:int64 cancel_reason:string fragment:bool events:*mvccpb.Event[]',
  'mvccpb.Event': 'type:#mvccpb.Event_EventType kv:*mvccpb.KeyValue prev_kv:*mvccpb.KeyValue',
  'mvccpb.KeyValue':
    'key:bytes create_revision:int64 mod_revision:int64 version:int64 value:bytes lease:int64',
  'v3electionpb.CampaignRequest': 'name:bytes lease:int64 value:bytes',
  'v3electionpb.CampaignResponse': 'header:*etcdserverpb.ResponseHeader leader:*v3electionpb.LeaderKey',
  'v3electionpb.LeaderKey': 'name:bytes key:bytes rev:int64 lease:int64',
  'v3electionpb.LeaderRequest': 'name:bytes',
  'v3electionpb.LeaderResponse': 'header:*etcdserverpb.ResponseHeader kv:*mvccpb.KeyValue',
  'v3electionpb.ProclaimRequest': 'leader:*v3electionpb.LeaderKey value:bytes',
  'v3electionpb.ProclaimResponse': 'header:*etcdserverpb.ResponseHeader',
  'v3electionpb.ResignRequest': 'leader:*v3electionpb.LeaderKey',
  'v3electionpb.ResignResponse': 'header:*etcdserverpb.ResponseHeader',
  'v3lockpb.LockRequest': 'name:bytes lease:int64',
  'v3lockpb.LockResponse': 'header:*etcdserverpb.ResponseHeader key:bytes',
  'v3lockpb.UnlockRequest': 'key:bytes',
  'v3lockpb.UnlockResponse': 'header:*etcdserverpb.ResponseHeader',
};

const SCALARS = new Set<string>(['int64', 'uint64', 'int32', 'uint32', 'bool', 'string', 'bytes']);
const camel = (s: string): string => s.replace(/_([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
const messageCache = new Map<string, MessageSpec>();
const enumCache = new Map<string, EnumSpec>();

function parseField(text: string): FieldSpec {
  const m = /^(\w+):([*#]?)([\w.]+)(\[\])?(?:\|(\w+))?$/.exec(text);
  assert(m !== null, `gateway schema: bad field ${text}`);
  const [, name, sigil, type, rep, oneof] = m as unknown as [
    string,
    string,
    string,
    string,
    string?,
    string?,
  ];
  let kind: FieldSpec['kind'];
  if (sigil === '*') kind = 'message';
  else if (sigil === '#') kind = 'enum';
  else {
    assert(SCALARS.has(type), `gateway schema: unknown scalar ${type}`);
    kind = type as ScalarKind;
  }
  return { name, json: camel(name), kind, type, repeated: rep !== undefined, oneof };
}

/** The spec of a message by full name (e.g. "etcdserverpb.RangeRequest"); throws if unknown. */
export function messageSpec(name: string): MessageSpec {
  let spec = messageCache.get(name);
  if (spec === undefined) {
    const text = MESSAGES[name];
    assert(text !== undefined, `gateway schema: no message ${name}`);
    spec = { name, fields: text === '' ? [] : text.split(' ').map(parseField) };
    messageCache.set(name, spec);
  }
  return spec;
}

/** The spec of an enum by Go name (e.g. "etcdserverpb.RangeRequest_SortOrder"); throws if unknown. */
export function enumSpec(name: string): EnumSpec {
  let spec = enumCache.get(name);
  if (spec === undefined) {
    const text = ENUMS[name];
    assert(text !== undefined, `gateway schema: no enum ${name}`);
    const values = text.split(' ');
    spec = { name, values, byName: new Map(values.map((v, i) => [v, i])) };
    enumCache.set(name, spec);
  }
  return spec;
}
