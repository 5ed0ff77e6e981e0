/**
 * The kinds of danger a rule reports, one per rule: what the finding is about decides its default
 * severity and which verdicts it may have (test/hazards.test.ts holds every rule to it).
 */

import type { Hazard, Severity, Verdict } from '../diagnostics.js';

export interface HazardInfo {
  /** in words, for reports: `blocks traffic` */
  label: string;
  /** for the docs, after the label and a dash: what this kind of danger is (no final period) */
  description: string;
  /** the severity of a rule of this kind, unless the rule says otherwise (with its reason) */
  severity: Severity;
  /** the verdicts a rule of this kind may have */
  verdicts: readonly Verdict[];
}

/** In the order reports and docs list them: most to least urgent. */
export const HAZARDS: Readonly<Record<Hazard, HazardInfo>> = {
  'loses-data': {
    label: 'loses data',
    description: 'destroys or corrupts data beyond what the statement names, or irrecoverably',
    severity: 'error',
    verdicts: ['unsafe', 'alternative'],
  },
  'blocks-traffic': {
    label: 'blocks traffic',
    description:
      'takes, or waits in the lock queue for, a lock that blocks the application’s reads or writes for longer than an instant',
    severity: 'error',
    verdicts: ['unsafe', 'alternative'],
  },
  'breaks-clients': {
    label: 'breaks clients',
    description:
      'takes no long lock, but application code that is already deployed fails or misbehaves against the new schema',
    severity: 'error',
    verdicts: ['unsafe', 'alternative'],
  },
  'fails-deploy': {
    label: 'fails deploy',
    description:
      'Postgres rejects the statement, or the migration cannot complete or be run again as written',
    severity: 'error',
    verdicts: ['unsafe', 'alternative'],
  },
  'schema-design': {
    label: 'schema design',
    description: 'advice about the resulting schema, with no danger while the migration is deployed',
    severity: 'warning',
    verdicts: ['safe'],
  },
};

export const HAZARD_IDS = Object.keys(HAZARDS) as Hazard[];

/** `blocks traffic`; an unknown value (a finding from elsewhere) as it is. */
export function hazardLabel(hazard: Hazard): string {
  return HAZARDS[hazard]?.label ?? hazard;
}
