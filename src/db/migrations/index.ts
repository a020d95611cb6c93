import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_keys_at_rest.js';
import * as m0003 from './0003_access_revoked_at.js';
import * as m0004 from './0004_password_life.js';
import * as m0005 from './0005_recovery.js';
import * as m0006 from './0006_account_notices.js';
import * as m0007 from './0007_registrations.js';
import * as m0008 from './0008_inactivity.js';
import * as m0009 from './0009_unlock_links.js';
import * as m0010 from './0010_audit_chain.js';
import * as m0011 from './0011_audit_partitions.js';
import * as m0012 from './0012_second_factor.js';
import * as m0013 from './0013_administrators.js';
import * as m0014 from './0014_email_change.js';
import * as m0015 from './0015_enablement.js';
import * as m0016 from './0016_services.js';
import * as m0017 from './0017_registration.js';
import * as m0018 from './0018_catalogue_announcements.js';

/** Every migration, in order; tests and the built app load the same list. */
export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_keys_at_rest': m0002,
  '0003_access_revoked_at': m0003,
  '0004_password_life': m0004,
  '0005_recovery': m0005,
  '0006_account_notices': m0006,
  '0007_registrations': m0007,
  '0008_inactivity': m0008,
  '0009_unlock_links': m0009,
  '0010_audit_chain': m0010,
  '0011_audit_partitions': m0011,
  '0012_second_factor': m0012,
  '0013_administrators': m0013,
  '0014_email_change': m0014,
  '0015_enablement': m0015,
  '0016_services': m0016,
  '0017_registration': m0017,
  '0018_catalogue_announcements': m0018,
};
