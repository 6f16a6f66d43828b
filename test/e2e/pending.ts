// Features whose service ketch does not serve yet, so the tests that need them are skipped against
// ketch (and still run against real etcd). Each entry names the issue that brings the feature.
import { target } from './harness.js';

/** LeaseGrant/LeaseRevoke/KeepAlive arrive with issue #6 (Leases). */
export function leaseServiceMissing(): string | false {
  return target() === 'ketch' ? 'the Lease service arrives with issue #6' : false;
}
