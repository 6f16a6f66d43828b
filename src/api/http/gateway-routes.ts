// The gateway's URL paths, as etcd 3.4 registers them (etcdserverpb/gw, v3lockpb/gw, v3electionpb/gw):
// every one POST, each mapped to one gRPC method. The order is etcd's registration order, and the
// first route of a path wins: /v3/maintenance/hash is Hash, never HashKV, exactly as in etcd. A service
// ketch does not implement yet still has its routes here; its gRPC method answers Unimplemented, and
// the gateway passes that on, so new services need no change in this file.
import {
  AuthService,
  ClusterService,
  KVService,
  LeaseService,
  MaintenanceService,
  WatchService,
} from '../../generated/etcdserverpb.js';
import { ElectionService } from '../../generated/v3electionpb.js';
import { LockService } from '../../generated/v3lockpb.js';
import type { MethodDescriptor } from '../../generated/wire.js';

export interface GatewayRoute {
  /** The URL path under which etcd's gateway serves the method, e.g. "/v3/kv/range". */
  readonly httpPath: string;
  readonly method: MethodDescriptor<unknown, unknown>;
}

type Methods = { readonly [name: string]: MethodDescriptor<unknown, unknown> };

function routes(methods: Methods, table: readonly (readonly [string, string])[]): GatewayRoute[] {
  return table.map(([httpPath, name]) => {
    const method = methods[name];
    if (method === undefined) throw new Error(`gateway route ${httpPath}: no method ${name}`);
    return { httpPath, method };
  });
}

export const GATEWAY_ROUTES: readonly GatewayRoute[] = [
  ...routes(KVService.methods, [
    ['/v3/kv/range', 'Range'],
    ['/v3/kv/put', 'Put'],
    ['/v3/kv/deleterange', 'DeleteRange'],
    ['/v3/kv/txn', 'Txn'],
    ['/v3/kv/compaction', 'Compact'],
  ]),
  ...routes(WatchService.methods, [['/v3/watch', 'Watch']]),
  ...routes(LeaseService.methods, [
    ['/v3/lease/grant', 'LeaseGrant'],
    ['/v3/lease/revoke', 'LeaseRevoke'],
    ['/v3/kv/lease/revoke', 'LeaseRevoke'],
    ['/v3/lease/keepalive', 'LeaseKeepAlive'],
    ['/v3/lease/timetolive', 'LeaseTimeToLive'],
    ['/v3/kv/lease/timetolive', 'LeaseTimeToLive'],
    ['/v3/lease/leases', 'LeaseLeases'],
    ['/v3/kv/lease/leases', 'LeaseLeases'],
  ]),
  ...routes(ClusterService.methods, [
    ['/v3/cluster/member/add', 'MemberAdd'],
    ['/v3/cluster/member/remove', 'MemberRemove'],
    ['/v3/cluster/member/update', 'MemberUpdate'],
    ['/v3/cluster/member/list', 'MemberList'],
    ['/v3/cluster/member/promote', 'MemberPromote'],
  ]),
  ...routes(MaintenanceService.methods, [
    ['/v3/maintenance/alarm', 'Alarm'],
    ['/v3/maintenance/status', 'Status'],
    ['/v3/maintenance/defragment', 'Defragment'],
    ['/v3/maintenance/hash', 'Hash'],
    ['/v3/maintenance/hash', 'HashKV'],
    ['/v3/maintenance/snapshot', 'Snapshot'],
    ['/v3/maintenance/transfer-leadership', 'MoveLeader'],
  ]),
  ...routes(AuthService.methods, [
    ['/v3/auth/enable', 'AuthEnable'],
    ['/v3/auth/disable', 'AuthDisable'],
    ['/v3/auth/authenticate', 'Authenticate'],
    ['/v3/auth/user/add', 'UserAdd'],
    ['/v3/auth/user/get', 'UserGet'],
    ['/v3/auth/user/list', 'UserList'],
    ['/v3/auth/user/delete', 'UserDelete'],
    ['/v3/auth/user/changepw', 'UserChangePassword'],
    ['/v3/auth/user/grant', 'UserGrantRole'],
    ['/v3/auth/user/revoke', 'UserRevokeRole'],
    ['/v3/auth/role/add', 'RoleAdd'],
    ['/v3/auth/role/get', 'RoleGet'],
    ['/v3/auth/role/list', 'RoleList'],
    ['/v3/auth/role/delete', 'RoleDelete'],
    ['/v3/auth/role/grant', 'RoleGrantPermission'],
    ['/v3/auth/role/revoke', 'RoleRevokePermission'],
  ]),
  ...routes(LockService.methods, [
    ['/v3/lock/lock', 'Lock'],
    ['/v3/lock/unlock', 'Unlock'],
  ]),
  ...routes(ElectionService.methods, [
    ['/v3/election/campaign', 'Campaign'],
    ['/v3/election/proclaim', 'Proclaim'],
    ['/v3/election/leader', 'Leader'],
    ['/v3/election/observe', 'Observe'],
    ['/v3/election/resign', 'Resign'],
  ]),
];

const byPath = new Map<string, GatewayRoute>();
for (const r of GATEWAY_ROUTES) if (!byPath.has(r.httpPath)) byPath.set(r.httpPath, r);

/** The route serving a URL path (first registered wins), if any. */
export function routeFor(path: string): GatewayRoute | undefined {
  return byPath.get(path);
}
