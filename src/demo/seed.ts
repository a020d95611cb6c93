import type { AccountRepository } from '../accounts/repository.js';
import type { createAccountProvisioning, NewAccount } from '../accounts/provisioning.js';
import { computeCodiceFiscale } from '../accounts/codice-fiscale.js';
import type { Administrators } from '../admin/administrators.js';

/** Demo credentials, for the embedded mode only; printed at start and listed in the README. */
export const DEMO_ACCOUNTS: ReadonlyArray<NewAccount & { label: string; administrator?: boolean }> = [
  {
    label: 'utenza nome.cognome (famiglie, docenti)',
    type: 'standard',
    givenName: 'Mario',
    familyName: 'Rossi',
    birthDate: '1980-01-01',
    birthPlace: 'Roma',
    sex: 'M',
    fiscalCode: computeCodiceFiscale({ givenName: 'Mario', familyName: 'Rossi', birthDate: '1980-01-01', sex: 'M', placeCode: 'H501' }),
    personalEmail: 'mario.rossi@example.org',
    mobilePhone: '+393331234567',
    password: 'Scuola-Demo-2026!',
  },
  {
    label: 'utenza MI (segreteria: DSGA)',
    type: 'mi',
    username: 'MI123456',
    givenName: 'Giulia',
    familyName: 'Bianchi',
    birthDate: '1975-06-15',
    birthPlace: 'Milano',
    sex: 'F',
    fiscalCode: computeCodiceFiscale({ givenName: 'Giulia', familyName: 'Bianchi', birthDate: '1975-06-15', sex: 'F', placeCode: 'F205' }),
    institutionalEmail: { address: 'giulia.bianchi@istruzione.it', state: 'ATTIVA' },
    password: 'Segreteria-Demo-2026!',
    schools: [{ schoolCode: 'RMIC81500X', role: 'dsga' }],
  },
  {
    // a security officer: the first sign-in enrols an authenticator app (verifica in due passaggi)
    label: 'utenza MI (dirigente, Responsabile della sicurezza: verifica in due passaggi)',
    type: 'mi',
    username: 'MI654321',
    givenName: 'Paolo',
    familyName: 'Esposito',
    birthDate: '1968-11-02',
    birthPlace: 'Napoli',
    sex: 'M',
    fiscalCode: computeCodiceFiscale({ givenName: 'Paolo', familyName: 'Esposito', birthDate: '1968-11-02', sex: 'M', placeCode: 'F839' }),
    institutionalEmail: { address: 'paolo.esposito@istruzione.it', state: 'ATTIVA' },
    password: 'Dirigenza-Demo-2026!',
    schools: [{ schoolCode: 'RMIC81500X', role: 'ds', securityOfficer: true }],
  },
  {
    // the platform's administrator: /admin asks for an authenticator app at the first visit
    label: 'amministratore della piattaforma (/admin, verifica in due passaggi)',
    administrator: true,
    type: 'standard',
    givenName: 'Carla',
    familyName: 'Verdi',
    birthDate: '1982-04-20',
    birthPlace: 'Roma',
    sex: 'F',
    fiscalCode: computeCodiceFiscale({ givenName: 'Carla', familyName: 'Verdi', birthDate: '1982-04-20', sex: 'F', placeCode: 'H501' }),
    personalEmail: 'carla.verdi@example.org',
    password: 'Piattaforma-Demo-2026!',
  },
];

export interface SeededAccount {
  label: string;
  username: string;
  password: string;
}

/** Creates the demo accounts that are missing (matched by codice fiscale). */
export async function seedDemoAccounts(
  accounts: AccountRepository,
  provisioning: ReturnType<typeof createAccountProvisioning>,
  administrators: Pick<Administrators, 'grant'>,
): Promise<SeededAccount[]> {
  const seeded: SeededAccount[] = [];
  for (const { label, administrator, ...input } of DEMO_ACCOUNTS) {
    const existing = await accounts.findByFiscalCode(input.fiscalCode);
    const account = existing ?? (await provisioning.provision(input));
    if (administrator && !existing) await administrators.grant(account.username, { kind: 'system' });
    seeded.push({ label, username: account.username, password: input.password });
  }
  return seeded;
}
